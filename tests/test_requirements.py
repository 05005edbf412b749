"""Per-provider-type requirements, what a provider file is missing, and work-history gaps."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from audit.models import AuditEvent
from credex.errors import Conflict, Forbidden, InvalidInput
from credex.tenancy import tenant_context
from roster.models import Credential, CredentialRequirement, CustomProviderType, Document
from roster.services import requirements as req
from tests.factories import PDF_BYTES
from tests.test_providers import add_credential, add_provider

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)


def cred(kind, **fields):
    """An unsaved credential: the gap and missing rules are pure functions of these."""
    return Credential(kind=kind, **fields)


def set_required(tenant, provider_type, required, role="owner"):
    with tenant_context(tenant.org):
        return req.requirement_set_for_type(
            org=tenant.org,
            actor=tenant.membership(getattr(tenant, role)),
            provider_type=provider_type,
            required=required,
        )


def missing_for(tenant, provider, today=None):
    with tenant_context(tenant.org):
        required = req.requirements_for_type(org=tenant.org, provider_type=provider.provider_type)
        return req.provider_missing(
            provider=provider,
            required=required,
            credentials=list(Credential.objects.filter(provider=provider)),
            documents=list(Document.objects.filter(provider=provider)),
            today=today,
        )


def add_document(tenant, provider, *, kind="license", credential=None, status="pending_review"):
    with tenant_context(tenant.org):
        doc = Document(
            organization=tenant.org,
            provider=provider,
            credential=credential,
            kind=kind,
            original_name="file.pdf",
            content_type="application/pdf",
            size=len(PDF_BYTES),
            sha256=hashlib.sha256(PDF_BYTES).hexdigest(),
            status=status,
        )
        doc.file.save("file.pdf", ContentFile(PDF_BYTES), save=False)
        doc.save()
        return doc


# --- what is missing ---------------------------------------------------------------------------
def test_nothing_configured_means_nothing_is_missing(tenant_a):
    provider = add_provider(tenant_a)
    assert missing_for(tenant_a, provider) == []


def test_each_required_kind_not_on_file_is_listed_in_kind_order(tenant_a):
    set_required(tenant_a, "MD", {"malpractice": False, "state_license": False, "dea": False})
    provider = add_provider(tenant_a)
    add_credential(tenant_a, provider, expiry_date=date.today() + timedelta(days=300))
    missing = missing_for(tenant_a, provider)
    assert [(m.kind, m.problem) for m in missing] == [
        ("dea", "missing"),
        ("malpractice", "missing"),
    ]
    assert missing[0].message == "No dea registration on file."
    assert missing[1].label == "Malpractice insurance"


def test_only_expired_or_revoked_credentials_do_not_satisfy_a_requirement(tenant_a):
    set_required(tenant_a, "MD", {"state_license": False, "dea": False})
    provider = add_provider(tenant_a)
    add_credential(tenant_a, provider, expiry_date=date.today() - timedelta(days=1))
    add_credential(tenant_a, provider, kind="dea", number="", status="revoked")
    assert [(m.kind, m.problem) for m in missing_for(tenant_a, provider)] == [
        ("state_license", "expired"),
        ("dea", "revoked"),
    ]


def test_a_state_license_is_needed_for_every_practice_state(tenant_a):
    set_required(tenant_a, "MD", {"state_license": False})
    provider = add_provider(tenant_a, practice_states=["CA", "NV", "OR"])
    add_credential(tenant_a, provider, state="CA")
    add_credential(tenant_a, provider, state="NV", expiry_date=date.today() - timedelta(days=3))
    messages = [m.message for m in missing_for(tenant_a, provider)]
    assert messages == ["No current state license for NV.", "No current state license for OR."]


def test_a_required_document_counts_when_linked_or_of_the_matching_kind_but_not_rejected(tenant_a):
    set_required(tenant_a, "MD", {"state_license": True, "malpractice": True})
    provider = add_provider(tenant_a)
    license_ = add_credential(tenant_a, provider)
    add_credential(tenant_a, provider, kind="malpractice", number="P")
    problems = [(m.kind, m.problem) for m in missing_for(tenant_a, provider)]
    assert problems == [("state_license", "document"), ("malpractice", "document")]

    add_document(tenant_a, provider, kind="other", credential=license_)  # linked to it
    add_document(tenant_a, provider, kind="malpractice", status="rejected")  # rejected
    assert [m.kind for m in missing_for(tenant_a, provider)] == ["malpractice"]
    add_document(tenant_a, provider, kind="malpractice")  # a declarations page, not linked
    assert missing_for(tenant_a, provider) == []


def test_the_provider_file_lists_what_is_missing_and_links_to_the_settings(tenant_a, login):
    provider = add_provider(tenant_a, provider_type="NP")
    client = login(tenant_a.coordinator)
    detail = reverse(
        "provider_detail", kwargs={"org_slug": tenant_a.org.slug, "provider_id": provider.pk}
    )
    html = client.get(detail).content.decode()
    assert "Nothing is required of Nurse practitioner yet." in html
    set_required(tenant_a, "NP", {"state_license": False, "malpractice": True})
    html = client.get(detail).content.decode()
    assert "No state license on file." in html and "No malpractice insurance on file." in html
    add_credential(tenant_a, provider)
    add_credential(tenant_a, provider, kind="malpractice", number="P")
    document = add_document(tenant_a, provider, kind="malpractice")
    html = client.get(detail).content.decode()
    assert "Malpractice insurance: document waiting for review." in html  # not yet reviewed
    with tenant_context(tenant_a.org):
        Document.objects.filter(pk=document.pk).update(status="accepted")
    html = client.get(detail).content.decode()
    assert "Everything required of Nurse practitioner is on file." in html


# --- work-history gaps ---------------------------------------------------------------------------
def test_a_gap_of_more_than_six_months_between_positions_is_flagged():
    history = [
        cred("work_history", start_date=date(2015, 1, 1), end_date=date(2018, 1, 31)),
        cred("work_history", start_date=date(2018, 8, 2), end_date=None),
    ]
    (gap,) = req.work_history_gaps(history, today=TODAY)
    assert (gap.start, gap.end, gap.trailing) == (date(2018, 2, 1), date(2018, 8, 1), False)
    assert gap.months == 6 and gap.days == 182


def test_a_gap_of_exactly_six_months_is_not_flagged():
    history = [
        cred("work_history", start_date=date(2015, 1, 1), end_date=date(2018, 1, 31)),
        cred("work_history", start_date=date(2018, 8, 1), end_date=None),
    ]
    assert req.work_history_gaps(history, today=TODAY) == []


def test_overlapping_and_open_periods_merge_and_training_counts_as_activity():
    history = [
        cred("training", start_date=date(2010, 7, 1), end_date=date(2013, 6, 30)),
        cred("work_history", start_date=date(2013, 9, 1), end_date=date(2020, 1, 1)),
        cred("work_history", start_date=date(2016, 1, 1), end_date=date(2019, 1, 1)),
        cred("work_history", start_date=date(2020, 5, 1), end_date=None),
        cred("education", start_date=date(2001, 1, 1), end_date=date(2005, 1, 1)),  # not work
    ]
    assert req.work_history_gaps(history, today=TODAY) == []


def test_not_working_for_more_than_six_months_up_to_today_is_a_trailing_gap():
    history = [cred("work_history", start_date=date(2019, 1, 1), end_date=date(2025, 10, 31))]
    (gap,) = req.work_history_gaps(history, today=TODAY)
    assert gap.trailing and gap.start == date(2025, 11, 1) and gap.end == TODAY
    recent = [cred("work_history", start_date=date(2019, 1, 1), end_date=date(2026, 1, 31))]
    assert req.work_history_gaps(recent, today=TODAY) == []


def test_the_provider_file_flags_a_work_history_gap(tenant_a, login):
    provider = add_provider(tenant_a)
    for start, end in ((date(2012, 1, 1), date(2016, 12, 31)), (date(2018, 3, 1), None)):
        add_credential(
            tenant_a,
            provider,
            kind="work_history",
            state="",
            start_date=start,
            end_date=end,
            details={"employer": "Clinic", "position": "MD"},
        )
    html = (
        login(tenant_a.coordinator)
        .get(
            reverse(
                "provider_detail",
                kwargs={"org_slug": tenant_a.org.slug, "provider_id": provider.pk},
            )
        )
        .content.decode()
    )
    assert "Work-history gap over 6 months." in html
    assert "14 months without a position: 1 Jan 2017 – 28 Feb 2018" in html


def test_work_history_needs_a_start_date(tenant_a):
    provider = add_provider(tenant_a)
    with pytest.raises(InvalidInput) as exc:
        add_credential(tenant_a, provider, kind="work_history", state="")
    assert "start_date" in exc.value.details


# --- configuring requirements --------------------------------------------------------------
def requirement_rows(tenant):
    with tenant_context(tenant.org):
        return sorted(
            CredentialRequirement.objects.values_list("provider_type", "kind", "document_required")
        )


def test_admin_sets_what_a_type_requires_on_the_settings_page_and_it_is_audited(tenant_a, login):
    page = reverse(
        "provider_requirements_type", kwargs={"org_slug": tenant_a.org.slug, "provider_type": "PA"}
    )
    response = login(tenant_a.admin).post(
        page,
        {
            "req_state_license": "on",
            "doc_state_license": "on",
            "req_dea": "on",
            "doc_malpractice": "on",
        },
    )
    assert response.status_code == 302
    assert requirement_rows(tenant_a) == [("PA", "dea", False), ("PA", "state_license", True)]
    with tenant_context(tenant_a.org):
        (event,) = AuditEvent.objects.filter(action="roster.requirements.changed")
    assert event.target_id == "PA"
    assert event.data["to"] == {"state_license": True, "dea": False}
    # Unticking a kind removes it; saving the same set again records nothing.
    set_required(tenant_a, "PA", {"dea": False})
    set_required(tenant_a, "PA", {"dea": False})
    assert requirement_rows(tenant_a) == [("PA", "dea", False)]
    with tenant_context(tenant_a.org):
        assert AuditEvent.objects.filter(action="roster.requirements.changed").count() == 2


def test_coordinators_and_auditors_read_requirements_but_cannot_change_them(tenant_a, login):
    set_required(tenant_a, "MD", {"state_license": True})
    for role in ("coordinator", "auditor"):
        client = login(getattr(tenant_a, role))
        base = {"org_slug": tenant_a.org.slug}
        overview = client.get(reverse("provider_requirements", kwargs=base))
        assert overview.status_code == 200
        assert "Only owners and admins can change them." in overview.content.decode()
        page = reverse("provider_requirements_type", kwargs={**base, "provider_type": "MD"})
        assert client.get(page).status_code == 200
        assert client.post(page, {"req_dea": "on"}).status_code == 403
        assert (
            client.post(
                reverse("provider_requirements", kwargs=base), {"code": "RN", "name": "Nurse"}
            ).status_code
            == 403
        )
        with pytest.raises(Forbidden):
            set_required(tenant_a, "MD", {}, role=role)
    assert requirement_rows(tenant_a) == [("MD", "state_license", True)]
    with tenant_context(tenant_a.org):
        assert not CustomProviderType.objects.exists()


def test_an_unknown_provider_type_page_is_404(tenant_a, login):
    page = reverse(
        "provider_requirements_type", kwargs={"org_slug": tenant_a.org.slug, "provider_type": "XYZ"}
    )
    assert login(tenant_a.owner).get(page).status_code == 404


def test_owner_adds_a_custom_provider_type_which_the_form_and_requirements_then_offer(
    tenant_a, login
):
    client = login(tenant_a.owner)
    base = {"org_slug": tenant_a.org.slug}
    response = client.post(
        reverse("provider_requirements", kwargs=base), {"code": "rn", "name": "Registered nurse"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("/requirements/RN/")
    form = client.get(reverse("provider_new", kwargs=base)).content.decode()
    assert '<option value="RN">Registered nurse</option>' in form
    set_required(tenant_a, "RN", {"state_license": True})
    provider = add_provider(tenant_a, provider_type="RN")
    assert [m.kind for m in missing_for(tenant_a, provider)] == ["state_license"]
    with tenant_context(tenant_a.org):
        assert AuditEvent.objects.filter(action="roster.provider_type.created").count() == 1


@pytest.mark.parametrize(
    "code,name,field",
    [("MD", "Doctor", "code"), ("1X", "Bad", "code"), ("RN", "", "name")],
)
def test_a_custom_type_must_have_a_new_valid_code_and_a_name(tenant_a, code, name, field):
    with tenant_context(tenant_a.org), pytest.raises(InvalidInput) as exc:
        req.custom_provider_type_create(
            org=tenant_a.org, actor=tenant_a.membership(tenant_a.owner), code=code, name=name
        )
    assert field in exc.value.details


def test_a_duplicate_custom_type_is_a_conflict(tenant_a, login):
    owner = tenant_a.membership(tenant_a.owner)
    with tenant_context(tenant_a.org):
        req.custom_provider_type_create(org=tenant_a.org, actor=owner, code="RN", name="Nurse")
        with pytest.raises(Conflict):
            req.custom_provider_type_create(org=tenant_a.org, actor=owner, code="rn", name="N")
    page = reverse("provider_requirements", kwargs={"org_slug": tenant_a.org.slug})
    response = login(tenant_a.owner).post(page, {"code": "RN", "name": "Again"})
    assert (
        response.status_code == 400
        and "RN is already one of your types." in response.content.decode()
    )


def test_recommended_requirements_fill_only_types_with_none(tenant_a, login):
    set_required(tenant_a, "MD", {"state_license": False})
    page = reverse("provider_requirements", kwargs={"org_slug": tenant_a.org.slug})
    assert login(tenant_a.admin).post(page, {"action": "recommended"}).status_code == 302
    table = {}
    for provider_type, kind, doc in requirement_rows(tenant_a):
        table.setdefault(provider_type, {})[kind] = doc
    assert table["MD"] == {"state_license": False}  # left alone
    assert table["DO"] == req.recommended_for("DO")
    assert set(table["LCSW"]) == {"state_license", "malpractice", "education", "work_history"}
