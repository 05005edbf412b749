"""The primary source of a licence follows its licence type and state: a CRNA's licence goes to
the nursing board, an LCSW's to the social work board, a DO's to the osteopathic board where
one is separate, an MD's to the medical board; the queue row and the verify form link the
board's online look-up."""

from __future__ import annotations

import html

import pytest
from django.utils import timezone

from credex.tenancy import tenant_context
from roster.models import Credential
from tests.factories import make_provider
from verifications.models import VerificationRequest
from verifications.services import queue as qsvc
from verifications.sources import board_for

CA_LOOKUP = "https://search.dca.ca.gov/"

CASES = [
    # provider type, licence number, state, board, look-up
    ("CRNA", "CR123456", "CA", "California Board of Registered Nursing", CA_LOOKUP),
    ("LCSW", "LC654321", "CA", "California Board of Behavioral Sciences", CA_LOOKUP),
    ("DO", "20A1234", "CA", "Osteopathic Medical Board of California", CA_LOOKUP),
    ("MD", "A123456", "CA", "Medical Board of California", CA_LOOKUP),
    ("CRNA", "CR777", "FL", "Florida Board of Nursing", None),
    ("DO", "OS9999", "TX", "Texas Medical Board", "https://profile.tmb.state.tx.us/"),
]


def licence(tenant, seed, provider_type, number, state):
    provider = make_provider(
        tenant.org, seed=seed, provider_type=provider_type, practice_states=[state]
    )
    with tenant_context(tenant.org):
        cred = Credential.objects.create(
            organization=tenant.org,
            provider=provider,
            kind="state_license",
            number=number,
            state=state,
            expiry_date=timezone.localdate().replace(year=timezone.localdate().year + 2),
        )
    return provider, cred


def qurl(tenant, rest=""):
    return f"/o/{tenant.org.slug}/verifications/{rest}"


@pytest.mark.django_db
@pytest.mark.parametrize("ptype,number,state,board,lookup", CASES)
def test_the_queue_row_and_the_verify_form_name_the_board_of_the_licence_type(
    tenant_a, login, ptype, number, state, board, lookup
):
    provider, cred = licence(tenant_a, 900 + CASES.index((ptype, number, state, board, lookup)),
                             ptype, number, state)  # fmt: skip
    client = login(tenant_a.coordinator)
    row_page = html.unescape(client.get(qurl(tenant_a), {"q": provider.last_name}).content.decode())
    assert board in row_page
    others = {c[3] for c in CASES} - {board}
    form = client.get(
        qurl(tenant_a, f"verify/{provider.pk}/"), {"credential": cred.pk, "source": "state_board"}
    )
    body = html.unescape(form.content.decode())
    assert form.status_code == 200
    assert f'name="source_name" value="{board}"' in body
    assert not any(f'value="{o}"' in body for o in others)
    if lookup is None:
        lookup = board_for(state, ptype).lookup_url
    assert lookup, "the common states' boards carry a look-up"
    assert f'href="{lookup}"' in body and f'href="{lookup}"' in row_page


@pytest.mark.django_db
def test_a_written_request_for_a_crna_licence_is_shown_for_the_nursing_board(tenant_a, login):
    provider, cred = licence(tenant_a, 950, "CRNA", "CR1", "CA")
    with tenant_context(tenant_a.org):
        qsvc.request_send(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.coordinator),
            method="email",
            sent_to="verify@brn.example",
            provider=provider,
            credential=cred,
        )
        assert VerificationRequest.objects.get(credential=cred).source == "state_board"
    body = html.unescape(
        login(tenant_a.coordinator).get(qurl(tenant_a), {"status": "requested"}).content.decode()
    )
    assert "California Board of Registered Nursing" in body
    assert "Medical Board of California" not in body


def test_a_licence_of_its_own_type_overrides_the_holders_type():
    assert board_for("CA", "RN").name == "California Board of Registered Nursing"
    assert board_for("CA", "PA").name == "Physician Assistant Board of California"
    assert board_for("TX", "PA").name == "Texas Physician Assistant Board"
    # one agency licenses every profession in New York
    assert board_for("NY", "LCSW") == board_for("NY", "MD")
    # no separate osteopathic board: the medical board
    assert board_for("OH", "DO").name == "State Medical Board of Ohio"
    # a profession the table does not know in a state: never the medical board
    assert board_for("AL", "CRNA").name == "Alabama nursing licensing board"
    assert board_for("AL", "CRNA").lookup_url == ""
    assert board_for("ZZ", "MD") is None
