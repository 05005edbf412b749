"""The inbox's action forms (one item's Snooze / Dismiss / Resolve, and the bulk bar): parsed
and typed here, each field read only for the action that uses it; the service still says
what an action needs (a reason to dismiss, items to act on, a known action)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.http import QueryDict
from django.utils import timezone

from credex.errors import InvalidInput
from roster.selectors import inbox as sel
from roster.services.inbox import MAX_SNOOZE_DAYS
from roster.views.form_fields import MAX_RETURN_QUERY, UUIDListField


class ReturnQueryForm(forms.Form):
    q = forms.CharField(required=False, strip=False, max_length=MAX_RETURN_QUERY)

    def query(self) -> QueryDict:
        """The filters to go back to (none when what was posted is not a query string)."""
        return QueryDict(self.cleaned_data["q"] if self.is_valid() else "")


_DAYS = "Choose how many days to snooze."
_DAYS_RANGE = f"Snooze for 1 to {MAX_SNOOZE_DAYS} days."


class InboxActionForm(forms.Form):
    action = forms.CharField(required=False)
    items = UUIDListField(required=False)
    days = forms.CharField(required=False)
    reason = forms.CharField(required=False, strip=False)
    note = forms.CharField(required=False, strip=False)
    assignee = forms.CharField(required=False)

    def __init__(self, data, *, org, action: str | None = None):
        if action is not None:
            data = data.copy()
            data["action"] = action
        super().__init__(data)
        self.org = org

    def clean_days(self):
        if self.cleaned_data.get("action") != "snooze":
            return None
        try:
            days = int(self.cleaned_data["days"])
        except ValueError:
            raise forms.ValidationError(_DAYS) from None
        if not 1 <= days <= MAX_SNOOZE_DAYS:
            raise forms.ValidationError(_DAYS_RANGE)
        return timezone.localdate() + timedelta(days=days)

    def clean_assignee(self):
        value = self.cleaned_data["assignee"]
        if self.cleaned_data.get("action") != "assign" or value in ("", "none"):
            return None
        for member in sel.assignable_members(org=self.org):
            if str(member.pk) == value:
                return member
        raise forms.ValidationError("Choose a member who can act on items.")

    def checked(self) -> dict:
        """The typed values, or the first refusal as the service's error (InvalidInput)."""
        if not self.is_valid():
            name, messages = next(iter(self.errors.items()))
            raise InvalidInput(str(messages[0]), details={name: "invalid"})
        return self.cleaned_data

    def service_params(self) -> dict:
        """What the bulk service takes besides the items, for the chosen action."""
        data = self.checked()
        return {
            "snooze": {"until": data["days"]},
            "dismiss": {"reason": data["reason"]},
            "assign": {"assignee": data["assignee"]},
        }.get(data["action"], {})
