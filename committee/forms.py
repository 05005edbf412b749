"""Django forms for the committee pages: they parse and type what a browser posts; the
services still validate the values (one set of rules for the page and the API)."""

from __future__ import annotations

from django import forms

from credex.errors import NotFound
from credex.forms import IsoDateField, PostedForm, text
from roster.selectors.providers import provider_get


class MarkReadyForm(PostedForm):
    provider = text()
    meeting_date = IsoDateField("Enter a meeting date like 2026-05-14, or leave it empty.")

    def __init__(self, data, *, org):
        super().__init__(data)
        self.org = org

    def clean_provider(self):
        raw = self.cleaned_data["provider"]
        try:
            provider = provider_get(org=self.org, provider_id=raw) if raw else None
        except NotFound:
            provider = None
        if provider is None:
            raise forms.ValidationError("Choose the provider whose file is ready.")
        return provider


class ScheduleForm(PostedForm):
    meeting_date = IsoDateField("Enter a meeting date like 2026-05-14.")


class DecisionForm(PostedForm):
    decision = text()
    decision_date = IsoDateField("Enter the decision date like 2026-05-14.")
    conditions = text()
    minutes = text()


class NotifiedForm(PostedForm):
    notified_on = IsoDateField("Enter the date like 2026-05-14.")
