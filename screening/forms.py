"""Django forms for the screening and NPPES pages: they parse and type what a browser posts;
the services still validate the values (one set of rules for the page and the API)."""

from __future__ import annotations

from credex.forms import PostedForm, UUIDList, flag, text


class RowLayoutForm(PostedForm):
    """How the page that posted shows a difference's row, so the answer fits among its
    neighbours (a table row with or without the tick column, or a stacked item)."""

    selectable = flag()
    compact = flag()
    stacked = flag()


class NoteForm(PostedForm):
    """Dismissing an NPPES difference, confirming a screening hit: an optional note."""

    note = text()


class BulkDismissForm(PostedForm):
    ids = UUIDList(required=False)
    note = text()


class HitClearForm(PostedForm):
    reason = text()
    evidence = text()
