"""The membership pages' forms: they parse and type what the browser posts; the services
validate the values (required fields, e-mail, accrediting body and state, dates, the
evidence file's content), as for the API."""

from __future__ import annotations

from django import forms

from credex.forms import CheckboxOn, text

PROFILE_FIELDS = (
    "display_name",
    "profile",
    "contact_name",
    "contact_email",
    "contact_phone",
    "credentialing_requirements",
)
ACCREDITATION_FIELDS = (
    "accrediting_body",
    "accrediting_state",
    "accreditation_status",
    "accreditation_expires_on",
)


class AccreditationForm(forms.Form):
    accrediting_body = text()
    accrediting_state = text()
    accreditation_status = text()
    accreditation_expires_on = text()
    # An empty file reaches the service, which says so ("The file is empty").
    evidence = forms.FileField(required=False, allow_empty_file=True)

    def typed(self) -> dict:
        return {name: self[name].value() or "" for name in ACCREDITATION_FIELDS}

    def accreditation_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "body": d["accrediting_body"],
            "body_state": d["accrediting_state"],
            "status": d["accreditation_status"],
            "expires_on": d["accreditation_expires_on"],
            "evidence": d["evidence"],
        }


class ApplicationForm(AccreditationForm):
    display_name = text()
    profile = text()
    contact_name = text()
    contact_email = text()
    contact_phone = text()
    credentialing_requirements = text()
    releases_attested = forms.BooleanField(required=False, widget=CheckboxOn)

    def typed(self) -> dict:
        typed = {name: self[name].value() or "" for name in PROFILE_FIELDS}
        return {**typed, **super().typed(), "releases_attested": self["releases_attested"].value()}

    def as_service(self) -> dict:
        d = self.cleaned_data
        return {
            **{name: d[name] for name in (*PROFILE_FIELDS, *ACCREDITATION_FIELDS)},
            "releases_attested": d["releases_attested"],
            "evidence": d["evidence"],
        }
