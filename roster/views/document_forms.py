"""The provider documents page's upload form: parsed and typed here, the kind and the file's
content validated by the service (documents_upload), as for the API."""

from __future__ import annotations

from django import forms

from credex.forms import CheckboxOn


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
