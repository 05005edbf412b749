"""Django forms for the enrollment pages: they parse and type what a browser posts; the
services still validate the values (one set of rules for the page and the API)."""

from __future__ import annotations

from django import forms

from credex.forms import IsoDateField, PostedForm, UUIDList, text
from enrollment import selectors as sel
from enrollment import services as svc
from enrollment.models import EnrollmentStatus


class LayoutForm(PostedForm):
    """Which page an application's row sits in (the worklist or a provider's list)."""

    layout = text()


class TransitionForm(PostedForm):
    to = text(error_messages={"required": "Choose the next step."}, required=True)
    on = IsoDateField("Enter the date of this step.")
    effective_date = IsoDateField("Enter the effective date.")
    next_follow_up = IsoDateField("Enter the next follow-up date.")
    note = text()


class EnrollmentEditForm(PostedForm):
    next_follow_up = IsoDateField("Enter a date like 2026-05-01.")
    reference_number = text()
    effective_date = IsoDateField("Enter a date like 2026-05-01.")

    def __init__(self, data, *, enrollment):
        """A date is changed (and checked) only when the form posted it and the application's
        status has it: a follow-up while filed, an effective date once approved."""
        super().__init__(data)
        if not ("next_follow_up" in data and enrollment.status in svc.FILED_STATUSES):
            del self.fields["next_follow_up"]
        if not ("effective_date" in data and enrollment.status == EnrollmentStatus.APPROVED):
            del self.fields["effective_date"]

    def typed(self) -> dict:
        fields = ("next_follow_up", "reference_number", "effective_date")
        return {name: self.data.get(name, "") for name in fields}


class EnrollmentNoteForm(PostedForm):
    note_text = text()


class EnrollmentNewForm(PostedForm):
    provider = text()
    payers = UUIDList(required=False)
    note = text()
    next = text()  # where to go back to (the view checks it is this site's: ui.safe_next)

    def __init__(self, data, *, org):
        if not data.getlist("payers") and data.getlist("payer"):
            data = data.copy()  # a link from a payer's page names one as ?payer=
            data.setlist("payers", data.getlist("payer"))
        super().__init__(data)
        self.org = org

    def typed(self) -> dict:
        return {
            "provider": self["provider"].value() or "",
            "payers": self.data.getlist("payers"),
            "note": self["note"].value() or "",
        }

    def clean_provider(self):
        raw = self.cleaned_data["provider"]
        provider = (
            sel.provider_choices(org=self.org).filter(pk=raw).first() if sel._uuid(raw) else None
        )
        if provider is None:
            raise forms.ValidationError("Choose the provider to enroll.")
        return provider

    def clean_payers(self):
        ids = set(self.cleaned_data["payers"])
        payers = [p for p in sel.payer_list(org=self.org) if p.pk in ids]
        if not payers:
            raise forms.ValidationError("Tick at least one payer.")
        return payers


class PayerForm(PostedForm):
    # The service checks each (required name, lengths, the e-mail and the portal address).
    name = text()
    payer_id = text()
    contact_name = text()
    contact_email = text()
    contact_phone = text()
    portal_url = text()


assert tuple(PayerForm.base_fields) == svc.PAYER_FIELDS


class ContractForm(PostedForm):
    effective_date = IsoDateField("Enter a date like 2026-01-01.")
    renewal_date = IsoDateField("Enter a date like 2027-01-01.")
    fee_schedule_ref = text()
    scope_of_services = text()
    terms_notes = text()


class PayerContactForm(PostedForm):
    """A payer's credentialing contact (the service checks the name, e-mail and lengths)."""

    payer = text()
    name = text()
    email = text()
    title = text()
    phone = text()
