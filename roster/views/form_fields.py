"""Form fields the roster's pages share: the repeated inputs a browser posts (ticked rows,
ticked kinds), read as lists."""

from __future__ import annotations

import uuid

from django import forms

# A page's own query string posted back (to return to the same filters): longer is not ours.
MAX_RETURN_QUERY = 2000


class ListWidget(forms.Widget):
    """Every value posted under the name (ticked checkboxes, repeated inputs)."""

    def value_from_datadict(self, data, files, name):
        return data.getlist(name) if hasattr(data, "getlist") else list(data.get(name) or [])


class StringListField(forms.Field):
    """The posted values as strings, in order; the service says which it knows."""

    widget = ListWidget

    def to_python(self, value):
        return [str(v) for v in value or []]


class UUIDListField(StringListField):
    """Ticked rows: the values that are UUIDs (anything else names no row)."""

    def to_python(self, value):
        out = []
        for raw in super().to_python(value):
            try:
                out.append(uuid.UUID(raw))
            except ValueError:
                continue
        return out
