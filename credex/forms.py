"""Django forms for credex's HTML pages: they parse and type what a browser posts; the
services still validate the values (one set of rules for the page and the API)."""

from __future__ import annotations

import uuid
from datetime import date

from django import forms

from credex.errors import InvalidInput
from credex.models import PSV_VALIDITY_DAYS, RECREDENTIALING_CYCLE_MONTHS


class CheckboxOn(forms.CheckboxInput):
    """Checked only when the browser sent "on" (what a ticked checkbox sends)."""

    def value_from_datadict(self, data, files, name):
        return data.get(name) == "on"


def _whole_number(message: str) -> forms.IntegerField:
    return forms.IntegerField(error_messages={"required": message, "invalid": message})


class OrganizationSettingsForm(forms.Form):
    # Not stripped or length-checked here: the service says what is wrong with a name.
    name = forms.CharField(required=False, strip=False)
    recredentialing_cycle_months = _whole_number(
        "Enter a whole number of months from {} to {}.".format(*RECREDENTIALING_CYCLE_MONTHS)
    )
    psv_validity_days = _whole_number(
        "Enter a whole number of days from {} to {}.".format(*PSV_VALIDITY_DAYS)
    )
    require_mfa = forms.BooleanField(required=False, widget=CheckboxOn)
    import_documents_can_follow = forms.BooleanField(required=False, widget=CheckboxOn)

    def __init__(self, data, *, org):
        data = data.copy()
        # Absent (an older form or a script): keep the current window.
        data.setdefault("psv_validity_days", str(org.psv_validity_days))
        super().__init__(data)

    def typed(self) -> dict:
        """What was posted, for showing the form again (the page keeps what was typed)."""
        return {name: self[name].value() for name in self.fields}


DATE_RANGE = (date(1900, 1, 1), date(2199, 12, 31))


class IsoDateField(forms.DateField):
    """A date typed as YYYY-MM-DD (what <input type=date> sends), from 1900 to 2199 (a
    year-1 or year-9999 date is a typo, and date arithmetic on it overflows); empty is None
    unless required. Whether the date fits the record (not in the future, after another) is
    the service's rule, the same for the page and the API."""

    input_formats = ["%Y-%m-%d"]

    def __init__(self, message: str, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(error_messages={"required": message, "invalid": message}, **kwargs)

    def validate(self, value):
        super().validate(value)
        earliest, latest = DATE_RANGE
        if value is not None and not earliest <= value <= latest:
            raise forms.ValidationError(
                f"Enter a date between {earliest:%Y} and {latest:%Y}.", code="out_of_range"
            )


def text(**kwargs) -> forms.CharField:
    """A text field the service validates (it says what is wrong: empty, too long); typed
    as posted. NUL bytes are refused by the field (and before it, by credex.hostile)."""
    kwargs.setdefault("required", False)
    kwargs.setdefault("strip", False)
    return forms.CharField(**kwargs)


class SentAs(forms.CheckboxInput):
    """True only when the browser sent `value` (a hidden "1" flag, a ticked box's "on")."""

    def __init__(self, value: str = "1"):
        super().__init__()
        self.sent = value

    def value_from_datadict(self, data, files, name):
        return data.get(name) == self.sent


def flag(value: str = "1") -> forms.BooleanField:
    return forms.BooleanField(required=False, widget=SentAs(value))


class UUIDList(forms.Field):
    """Every posted value of a repeated field (ticked rows' ids) that is a UUID; others are
    dropped, as a row that no longer exists is: the service works on the rows that are."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        ids = []
        for item in value or []:
            try:
                ids.append(uuid.UUID(str(item)))
            except ValueError:
                continue
        return ids

    def validate(self, value):
        pass


class PostedForm(forms.Form):
    def validated(self) -> dict:
        """The cleaned values, or an InvalidInput carrying the form's errors (its details are
        the field messages), so a view has one error path for the form and the service."""
        if self.is_valid():
            return self.cleaned_data
        errors = {name: str(messages[0]) for name, messages in self.errors.items() if messages}
        message = errors.pop("__all__", None) or next(iter(errors.values()))
        raise InvalidInput(message, details=errors)

    def typed(self) -> dict:
        """What was posted, for showing the form again (the page keeps what was typed)."""
        return {name: self[name].value() or "" for name in self.fields}


class OrganizationNewForm(PostedForm):
    # The service says what is wrong with a name (empty, too long).
    name = text()


class InvitationForm(PostedForm):
    # The service checks the address and whether the inviter may grant the role.
    email = text()
    role = text()


class MemberRoleForm(PostedForm):
    role = text()


class MemberRemoveForm(PostedForm):
    # "me" or "unassigned"; the service refuses anything else.
    reassign_to = text()

    def __init__(self, data):
        data = data.copy()
        data.setdefault("reassign_to", "unassigned")  # absent: the work is left unassigned
        super().__init__(data)


class ApiKeyForm(PostedForm):
    # The service checks the name (required, its length) and the role a key may have.
    name = text()
    role = text()
