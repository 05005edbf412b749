"""What the fuzz tests (test_fuzz_api.py, test_fuzz_forms.py) found, each pinned by a test.

Each was a 500, or a 100 KB value cut silently or stored; each is now a 4xx (or a page) and,
when refused, changes nothing.
"""

from __future__ import annotations

from datetime import date

import pytest
from rest_framework.throttling import SimpleRateThrottle

from committee.models import CommitteeReview
from credex.errors import InvalidInput
from credex.models import ApiKey, Organization, Role
from credex.tenancy import tenant_context
from enrollment.models import Enrollment
from roster.models import Document, InboxItem
from screening.nppes.models import NppesRun
from tests.factories import populate_every_tenant_table
from tests.fuzz_seed import row_counts
from tests.test_api import api, assert_error, make_key
from verifications.models import ExtractionSuggestion

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _generous_throttle(monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/min", "user": "100000/min"}
    )


@pytest.fixture
def filled(tenant_a):
    populate_every_tenant_table(tenant_a, seed=5)
    return tenant_a


def _one(model, org):
    with tenant_context(org):
        return model.objects.filter(organization=org).first()


# --- 500s ---------------------------------------------------------------------------------------
def test_the_psv_queue_filtered_to_npdb_is_empty_instead_of_a_500(filled, login):
    # NPDB is a verification source no queue element is verified at: no part of the union.
    key = make_key(filled, role=Role.ADMIN)[1]
    response = api(login(filled.owner), "GET", "verifications/queue?source=npdb", key=key)
    assert response.status_code == 200, response.content[:300]
    assert response.json()["results"] == []
    page = login(filled.owner).get(f"/o/{filled.org.slug}/verifications/?source=npdb")
    assert page.status_code == 200


def test_a_committee_decision_dated_year_1_is_a_400_not_an_overflow(filled, client):
    key = make_key(filled, role=Role.ADMIN)[1]
    review = _one(CommitteeReview, filled.org)
    before = row_counts(filled.org)
    response = api(
        client,
        "POST",
        f"committee/reviews/{review.pk}/decision",
        {"decision": "approved", "decision_date": "0001-01-01"},
        key=key,
    )
    body = assert_error(response, 400, "invalid")
    assert "decision_date" in body["details"], body
    assert row_counts(filled.org) == before


@pytest.mark.parametrize("path", ["settings/", None])
def test_an_organization_name_past_200_characters_is_refused_not_a_500(tenant_a, login, path):
    client = login(tenant_a.owner)
    before = row_counts(tenant_a.org)
    if path:
        url = f"/o/{tenant_a.org.slug}/{path}"
        data = {"name": "A" * 201, "recredentialing_cycle_months": "36", "psv_validity_days": "120"}
    else:
        url, data = "/orgs/new/", {"name": "A" * 201}
    response = client.post(url, data)
    assert response.status_code == 400
    assert "200 characters" in response.content.decode()
    assert Organization.objects.get(pk=tenant_a.org.pk).name == "Acme Health"
    assert row_counts(tenant_a.org) == before


@pytest.mark.parametrize(
    "counts",
    [{}, {"checked": 3, "match": 2, "mismatch": 1, "error": 0}, {"reason": "lost"}],
)
def test_a_finished_nppes_run_with_missing_counts_renders_zeros_not_a_500(tenant_a, login, counts):
    # Runs recorded before the "deactivated" outcome existed lack its key; the template's
    # `add:` of a missing key was a VariableDoesNotExist (KeyError 'deactivated'), a 500.
    with tenant_context(tenant_a.org):
        run = NppesRun.objects.create(organization=tenant_a.org, status="done", counts=counts)
    client = login(tenant_a.owner)
    response = client.get(f"/o/{tenant_a.org.slug}/screening/nppes/runs/{run.pk}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Refresh finished." in text
    assert f"{counts.get('mismatch', 0)} with differences" in text and "0 failed" in text
    assert client.get(f"/o/{tenant_a.org.slug}/screening/nppes/").status_code == 200


def test_the_run_tally_fills_every_key():
    run = NppesRun(counts={"checked": 4, "mismatch": 1, "deactivated": 2, "not_found": 1})
    tally = run.tally
    assert tally["mismatch"] + tally["deactivated"] == 3  # the banner's "with differences"
    assert tally["error"] + tally["not_found"] == 1  # and its "failed"
    assert tally["match"] == 0 and tally["mismatches_opened"] == 0


# --- 100 KB values: refused, not cut and saved ------------------------------------------------
def test_an_api_key_name_past_100_characters_is_refused_not_cut(tenant_a, login):
    with tenant_context(tenant_a.org):
        keys = ApiKey.objects.count()
    response = login(tenant_a.owner).post(
        f"/o/{tenant_a.org.slug}/settings/api-keys/", {"name": "k" * 101, "role": "coordinator"}
    )
    assert response.status_code in (200, 400)
    assert "100 characters" in response.content.decode()
    with tenant_context(tenant_a.org):
        assert ApiKey.objects.count() == keys


def _refused(fn, field):
    with pytest.raises(InvalidInput) as refused:
        fn()
    assert field in refused.value.details, refused.value.details


def test_over_long_free_text_is_refused_by_each_service_and_changes_nothing(filled):
    from committee import services as committee_svc
    from enrollment import services as enrollment_svc
    from roster.services import inbox as inbox_svc
    from roster.services.documents import document_review
    from verifications.services.extraction import extraction_decide

    org, actor = filled.org, filled.membership(filled.owner)
    before = row_counts(org)
    with tenant_context(org):
        item = InboxItem.objects.get(organization=org)
        doc = Document.objects.get(organization=org)
        enrollment = Enrollment.objects.get(organization=org)
        suggestion = ExtractionSuggestion.objects.get(organization=org)
        review = CommitteeReview.objects.get(organization=org)
        kw = {"org": org, "actor": actor}
        _refused(lambda: inbox_svc.inbox_item_dismiss(**kw, item=item, reason="r" * 201), "reason")
        _refused(lambda: inbox_svc.inbox_item_resolve(**kw, item=item, note="n" * 201), "note")
        _refused(
            lambda: document_review(**kw, document=doc, decision="reject", reason="r" * 2001),
            "reason",
        )
        _refused(
            lambda: enrollment_svc.enrollment_transition(
                **kw, enrollment=enrollment, to="withdrawn", note="n" * 2001
            ),
            "note",
        )
        _refused(
            lambda: extraction_decide(
                **kw, suggestion=suggestion, decision="reject", reason="r" * 501
            ),
            "reason",
        )
        _refused(
            lambda: extraction_decide(
                **kw, suggestion=suggestion, decision="correct", values={"number": "9" * 61}
            ),
            "number",
        )
        for field, size in (("minutes", 10_001), ("conditions", 2_001)):
            _refused(
                lambda field=field, size=size: committee_svc.committee_record_decision(
                    **kw,
                    review=review,
                    decision="approved_with_conditions",
                    decision_date=date.today(),
                    **{"minutes": "m", "conditions": "c", field: "x" * size},
                ),
                field,
            )
        from verifications.models import VerificationRequest
        from verifications.services import queue as queue_svc

        vr = VerificationRequest.objects.get(organization=org)
        _refused(lambda: queue_svc.request_cancel(**kw, request=vr, reason="r" * 2001), "reason")
        _refused(lambda: queue_svc.request_follow_up(**kw, request=vr, note="n" * 2001), "note")
        _refused(
            lambda: queue_svc.request_send(
                **kw, request=vr, method="email", sent_to="a@b.example", note="n" * 2001
            ),
            "note",
        )
        assert InboxItem.objects.get(pk=item.pk).status == item.status
        assert CommitteeReview.objects.get(pk=review.pk).decision == ""
    assert row_counts(org) == before
