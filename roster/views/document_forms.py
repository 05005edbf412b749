"""The documents pages' forms (upload, review, bulk accept, a new upload link): they parse
and type what the browser posts; the services validate the values (the kind, the file's
content, the decision and reason, the link's kinds, e-mail and days), as for the API."""

from __future__ import annotations

from django import forms

from credex.forms import CheckboxOn
from roster.views.form_fields import StringListField, UUIDListField


class DocumentUploadForm(forms.Form):
    kind = forms.CharField(required=False, strip=False)
    credential = forms.CharField(required=False, strip=False)
    accept = forms.BooleanField(required=False, widget=CheckboxOn)
    # An empty file reaches the service, which says so ("The file is empty").
    file = forms.FileField(required=False, allow_empty_file=True)

    def __init__(self, data, files, *, provider):
        super().__init__(data, files)
        self.provider = provider

    def clean_credential(self):
        value = self.cleaned_data["credential"]
        if not value:
            return None
        credential = next((c for c in self.provider.credentials.all() if str(c.pk) == value), None)
        if credential is None:
            raise forms.ValidationError("Choose one of this provider's credentials, or none.")
        return credential

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload is None:
            raise forms.ValidationError("Choose a PDF, PNG or JPEG file to upload.")
        return upload

    def typed(self) -> dict:
        """What was posted, for showing the form again."""
        return {name: self[name].value() for name in ("kind", "credential", "accept")}


class BulkAcceptForm(forms.Form):
    ids = UUIDListField(required=False)


class DocumentReviewForm(forms.Form):
    """Accept or reject one document; the service checks the decision and the reason."""

    decision = forms.CharField(required=False)
    reason = forms.CharField(required=False, strip=False)
    # Which page posted it: the provider's documents ("provider") or the review queue, whose
    # row keeps its bulk-select column when "bulk" is 1.
    view = forms.CharField(required=False)
    bulk = forms.CharField(required=False)

    def as_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("decision", "reason")}


class UploadLinkForm(forms.Form):
    """A new upload link; the service checks the kinds, the e-mail, the message and the days."""

    kinds = StringListField(required=False)
    message = forms.CharField(required=False, strip=False)
    email = forms.CharField(required=False, strip=False)
    days = forms.CharField(required=False)

    def clean_days(self):
        raw = self.cleaned_data["days"]
        if not raw:
            return None  # the longest the link may live
        try:
            return int(raw)
        except ValueError:
            return -1  # not a number of days: the service says which are allowed

    def typed(self) -> dict:
        """What was posted, for showing the form again."""
        typed = {name: self[name].value() or "" for name in ("message", "email", "days")}
        return {"kinds": self["kinds"].value() or [], **typed}

    def as_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


class PublicUploadForm(forms.Form):
    """The upload link's public page: one of the link's requested kinds and a file (the
    service checks the file's content)."""

    kind = forms.CharField(required=False)
    # An empty file reaches the service, which says so.
    file = forms.FileField(required=False, allow_empty_file=True)

    def __init__(self, data, files, *, link):
        super().__init__(data, files)
        self.link = link

    def clean_kind(self):
        kind = self.cleaned_data["kind"]
        if kind not in self.link.requested_kinds:
            raise forms.ValidationError(
                "Choose one of the requested documents and upload it again."
            )
        return kind

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload is None:
            raise forms.ValidationError("Choose a file first (PDF, PNG or JPEG).")
        return upload
