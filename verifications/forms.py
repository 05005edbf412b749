"""Django forms for the verification pages (the PSV queue and its record, correction and
written-request forms, bulk assignment, package shares, payer contacts, extraction decisions,
re-verification packets): they parse and type what a browser posts; the services still
validate the values (one set of rules for the page and the API).

A form that does not validate becomes the same InvalidInput a service raises (`values()`), so
each view maps both to its page errors in one place. Django's CharField already refuses NUL
bytes (and credex/hostile.py refuses them before any view runs)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from django import forms
from django.http import Http404
from django.utils import timezone

from credex import interface as ui
from credex.errors import InvalidInput

# A posted value longer than this is refused by the form, before any service or query sees
# it; the services' own limits (2,000 characters and less) say what is wrong with a long one.
HARD_MAX = 20_000
# Dates a page accepts: nothing earlier (a year-1 date is a typo or a probe) ...
EARLIEST_YEAR = 1900
# ... and no due date further ahead than this.
DUE_WITHIN_DAYS = 366 * 5

VERIFIED_AT_MESSAGE = "Give the date and time you checked the source."
DUE_DATE_MESSAGE = "Give the due date as a date."


def _text(*, strip: bool = True) -> forms.CharField:
    return forms.CharField(required=False, strip=strip, max_length=HARD_MAX)


class ServiceForm(forms.Form):
    """A form whose cleaned values feed a service."""

    def values(self) -> dict:
        """The cleaned values, or InvalidInput with the fields' messages (as a service's)."""
        if self.is_valid():
            return self.cleaned_data
        errors = ui.form_errors(self)
        message = errors.pop("__all__", "") or next(iter(errors.values()))
        raise InvalidInput(message, details=errors)

    def typed(self, names=None, *, strip: bool = True) -> dict:
        """What was posted, for showing the form again (the page keeps what was typed)."""
        typed = {}
        for name in names or self.fields:
            value = self.data.get(name, "") or ""
            typed[name] = value.strip() if strip else value
        return typed


# --- the PSV queue --------------------------------------------------------------------------
class ElementForm(forms.Form):
    """The element a queue form is about: a credential (or none) and a source."""

    credential = forms.UUIDField(required=False)
    element_source = _text()
    source = _text()

    def element(self) -> tuple[str, str]:
        """(credential id or "", source or "") from a query or a form; a credential that is
        not an id, or a source far too long to name one, is a hand-made URL: the 404 page."""
        if not self.is_valid():
            raise Http404("No such element.")
        data = self.cleaned_data
        credential = str(data["credential"]) if data["credential"] else ""
        return credential, data["element_source"] or data["source"]


DOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


class RowForm(forms.Form):
    """Whether the record form is inline in a queue row, and that row's DOM id."""

    row = _text()
    dom_id = _text()

    def inline(self) -> bool:
        return self.is_valid() and self.cleaned_data["row"] == "1"

    def dom_id_value(self) -> str:
        # Echoed into an id attribute: anything but a plain DOM id is dropped.
        value = self.cleaned_data.get("dom_id", "") if self.is_valid() else ""
        return value if DOM_ID.match(value) else ""


def _parse_when(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value[:10]), datetime.min.time())
        except ValueError:
            raise forms.ValidationError(VERIFIED_AT_MESSAGE)
    if parsed.year < EARLIEST_YEAR:
        raise forms.ValidationError(VERIFIED_AT_MESSAGE)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


RECORD_FIELDS = (
    "source",
    "source_state",
    "source_name",
    "method",
    "result",
    "verified_at",
    "details",
    "reference",
)


class VerificationRecordForm(ServiceForm):
    """The record form: the source, how and when it was checked, what it said."""

    source = _text()
    source_state = _text()
    source_name = _text()
    method = _text()
    result = _text()
    verified_at = _text()
    details = _text()
    reference = _text()

    def clean_verified_at(self):
        return _parse_when(self.cleaned_data["verified_at"])


class VerificationCorrectForm(VerificationRecordForm):
    reason = _text()


def _parse_due(value: str) -> date | None:
    if not value:
        return None
    try:
        due = date.fromisoformat(value)
    except ValueError:
        raise forms.ValidationError(DUE_DATE_MESSAGE)
    # A past date is the service's to refuse ("cannot be in the past"); a far one is a typo.
    if due > timezone.localdate() + timedelta(days=DUE_WITHIN_DAYS):
        raise forms.ValidationError("Give a due date within the next five years.")
    return due


class RequestSendForm(ServiceForm):
    method = _text(strip=False)
    sent_to = _text(strip=False)
    due_date = _text()
    note = _text(strip=False)

    def clean_due_date(self):
        return _parse_due(self.cleaned_data["due_date"])


class RequestFollowUpForm(ServiceForm):
    due_date = _text()
    note = _text(strip=False)

    def clean_due_date(self):
        return _parse_due(self.cleaned_data["due_date"])


class ReasonForm(ServiceForm):
    """A bare reason (cancelling a written request or a packet)."""

    reason = _text(strip=False)


ASSIGNEE_MESSAGE = "Choose a member of this organization to assign to."


class KeysField(forms.Field):
    """The queue's ticked rows: "provider:credential:source" keys, one value each."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        values = value or []
        if not isinstance(values, list | tuple):
            values = [values]
        if len(values) > 1000:
            raise forms.ValidationError("Choose at most 1,000 rows at a time.")
        for key in values:
            if len(key) > 200:
                raise forms.ValidationError("Some rows are not in the queue any more.")
        return [str(key) for key in values]


class AssignForm(ServiceForm):
    assignee = forms.UUIDField(required=False, error_messages={"invalid": ASSIGNEE_MESSAGE})
    keys = KeysField(required=False)


# --- packages and payer contacts ----------------------------------------------------------
def _days(value: str) -> int | None:
    """A whole number of days, None when left blank; anything else is passed on as out of
    range, for the service to report with its other messages ("Choose from 1 to N days.")."""
    if not value:
        return None
    try:
        return int(value) if len(value) <= 6 else -1
    except ValueError:
        return -1


class PackageShareForm(ServiceForm):
    contact = _text(strip=False)
    email = _text()
    days = _text()
    message = _text(strip=False)

    def clean_days(self):
        return _days(self.cleaned_data["days"])


# --- extraction -------------------------------------------------------------------------------
class ExtractionDecideForm(ServiceForm):
    """Approve, correct or reject a suggestion; the values typed when correcting."""

    decision = _text(strip=False)
    reason = _text(strip=False)

    def __init__(self, data, *, names):
        super().__init__(data)
        self.value_names = tuple(names)
        for name in self.value_names:
            self.fields[f"value_{name}"] = _text(strip=False)

    def typed_values(self) -> dict:
        """The corrected values by their field name, as typed."""
        return {name: self.data.get(f"value_{name}", "") or "" for name in self.value_names}

    def corrected(self) -> dict:
        return {name: self.cleaned_data[f"value_{name}"] for name in self.value_names}


# --- packets ----------------------------------------------------------------------------------
class PacketBulkForm(ServiceForm):
    days = _text()

    def __init__(self, data, *, default: int):
        super().__init__(data)
        self.default = default

    def clean_days(self):
        value = self.cleaned_data["days"]
        if not value and "days" not in self.data:
            return self.default
        try:
            # Out of range, or not a number: 0, for the service to refuse with its message.
            return int(value) if len(value) <= 6 else 0
        except ValueError:
            return 0
