"""The verification pages' Django forms (verifications/forms.py): what the forms refuse before
any service runs (a year-1 check date, a due date decades ahead, a credential that is not an
id, an assignee that is not one), with the page's error and nothing written; and what they
keep (the typed values, the inline row's DOM id only when it is one).

Real Postgres (RLS on) through the real middleware, as test_psv_queue.py.
"""

# ruff: noqa: F811 (the fixtures imported from test_psv_queue are parameters here)
from __future__ import annotations

from datetime import timedelta

from django.contrib.messages import get_messages
from django.utils import timezone

from credex.tenancy import tenant_context
from tests.test_psv_queue import _db, actions, key, qurl, world  # noqa: F401
from verifications.forms import VERIFIED_AT_MESSAGE
from verifications.models import Verification, VerificationRequest


def _record(world, **fields):
    return {
        "credential": world.lic.pk,
        "source": "state_board",
        "source_state": "TX",
        "method": "web",
        "result": "verified",
        **fields,
    }


def test_a_year_one_check_date_is_refused_with_the_fields_message_and_nothing_saved(
    tenant_a, world, login
):
    client = login(tenant_a.coordinator)
    before = actions(tenant_a.org)
    response = client.post(
        qurl(tenant_a, f"verify/{world.adams.pk}/"),
        _record(world, verified_at="0001-01-01T00:00", details="Kept as typed"),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert VERIFIED_AT_MESSAGE in body and "Kept as typed" in body
    with tenant_context(tenant_a.org):
        assert not Verification.objects.filter(credential=world.lic).exists()
    assert actions(tenant_a.org) == before


def test_a_check_date_that_is_not_a_date_says_so(tenant_a, world, login):
    response = login(tenant_a.coordinator).post(
        qurl(tenant_a, f"verify/{world.adams.pk}/"), _record(world, verified_at="yesterday")
    )
    assert response.status_code == 400 and VERIFIED_AT_MESSAGE in response.content.decode()


def test_a_credential_that_is_not_an_id_is_the_404_page_not_a_provider_level_record(
    tenant_a, world, login
):
    response = login(tenant_a.coordinator).post(
        qurl(tenant_a, f"verify/{world.adams.pk}/"), _record(world, credential="9" * 30)
    )
    assert response.status_code == 404
    with tenant_context(tenant_a.org):
        assert not Verification.objects.filter(provider=world.adams, source="state_board").exists()


def test_the_inline_row_echoes_its_dom_id_only_when_it_is_one(tenant_a, world, login):
    client = login(tenant_a.coordinator)
    response = client.post(
        qurl(tenant_a, f"verify/{world.adams.pk}/"),
        _record(
            world,
            row="1",
            dom_id='x" data-evil="1',
            verified_at=timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        ),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "left the queue" in response.content.decode()
    assert "data-evil" not in response.content.decode()


def test_a_due_date_decades_ahead_is_refused_and_no_request_is_sent(tenant_a, world, login):
    client = login(tenant_a.coordinator)
    far = (timezone.localdate() + timedelta(days=366 * 30)).isoformat()
    response = client.post(
        qurl(tenant_a, f"send/{world.adams.pk}/"),
        {
            "credential": world.lic.pk,
            "source": "state_board",
            "method": "email",
            "sent_to": "verify@board.example",
            "due_date": far,
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "Give a due date within the next five years." in response.content.decode()
    with tenant_context(tenant_a.org):
        assert not VerificationRequest.objects.filter(credential=world.lic).exists()


def test_a_due_date_that_is_not_a_date_keeps_its_message(tenant_a, world, login):
    response = login(tenant_a.coordinator).post(
        qurl(tenant_a, f"send/{world.adams.pk}/"),
        {
            "credential": world.lic.pk,
            "source": "state_board",
            "method": "email",
            "sent_to": "verify@board.example",
            "due_date": "0001-13-40",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "Give the due date as a date." in response.content.decode()


def test_an_assignee_that_is_not_a_member_id_assigns_nothing(tenant_a, world, login):
    client = login(tenant_a.coordinator)
    response = client.post(
        qurl(tenant_a, "assign/"), {"assignee": "9" * 30, "keys": [key(world.adams, world.lic)]}
    )
    assert response.status_code == 302
    notes = [str(m) for m in get_messages(response.wsgi_request)]
    assert notes == ["Choose a member of this organization to assign to."]
    with tenant_context(tenant_a.org):
        assert not VerificationRequest.objects.exclude(assigned_to=None).exists()
