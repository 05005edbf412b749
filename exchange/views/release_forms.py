"""The release pages' forms: they parse and type what the browser posts (provider id, scope,
dates, the file, the signature fields); the services validate the values, as for the API."""

from __future__ import annotations

from django import forms

from credex.forms import CheckboxOn
from roster.views.form_fields import StringListField
from verifications.models import VerificationSource

DATE_ERROR = "Enter a date as YYYY-MM-DD."

STATUSES = {
    "": "All",
    "current": "Current",
    "expiring": "Expiring within 30 days",
    "expired": "Expired",
    "revoked": "Revoked",
}


def _date(required_message: str) -> forms.DateField:
    return forms.DateField(
        required=True,
        input_formats=["%Y-%m-%d"],
        error_messages={"required": required_message, "invalid": DATE_ERROR},
    )


class _ScopeForm(forms.Form):
    provider = forms.UUIDField(
        error_messages={"required": "Choose the clinician.", "invalid": "Choose the clinician."}
    )
    # "all" or "some": with "some", the ticked sources.
    scope = forms.ChoiceField(
        choices=[("all", "All verification types"), ("some", "Only these types")],
        error_messages={"required": "Choose the scope.", "invalid_choice": "Choose the scope."},
    )
    sources = StringListField(required=False)
    expires_on = _date("Enter the date the release expires.")

    def scope_values(self) -> dict:
        scope_all = self.cleaned_data["scope"] == "all"
        return {
            "scope_all": scope_all,
            "scope_sources": [] if scope_all else self.cleaned_data["sources"],
        }

    def typed(self) -> dict:
        """What was posted, for showing the form again."""
        return {name: self[name].value() for name in self.fields}


class ReleaseDocumentForm(_ScopeForm):
    signed_on = _date("Enter the date the clinician signed.")
    # An empty file reaches the service, which says so ("The file is empty").
    file = forms.FileField(
        required=True,
        allow_empty_file=True,
        error_messages={"required": "Choose the signed release (PDF, PNG or JPEG)."},
    )


class ReleaseEsignForm(_ScopeForm):
    email = forms.CharField(required=False, strip=True, max_length=254)


class ReleaseRevokeForm(forms.Form):
    reason = forms.CharField(required=False, strip=False)


class ReleaseFilterForm(forms.Form):
    status = forms.ChoiceField(choices=list(STATUSES.items()), required=False)
    provider = forms.UUIDField(required=False)


class ReleaseSignForm(forms.Form):
    """The clinician's signature on the public page; the service checks the values."""

    signer_name = forms.CharField(required=False, strip=False, max_length=1000)
    consent = forms.BooleanField(required=False, widget=CheckboxOn)
    text_sha256 = forms.CharField(required=False, max_length=64)


SOURCE_CHOICES = VerificationSource.choices
