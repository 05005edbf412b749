"""The PSV queue: what needs verifying (ordering, filters, validity), the record form from the
queue (inline htmx and page), written requests (send, follow up, cancel) with audit events,
bulk assignment, evidence download, the dashboard block, and who may do what.

Real Postgres (RLS on) through the real middleware; real files in a temporary MEDIA_ROOT.
"""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from committee.models import CommitteeReview
from credex.errors import Conflict, InvalidInput
from credex.tenancy import tenant_context
from roster.models import Credential
from tests.factories import make_provider, pdf_bytes
from verifications.models import RequestStatus, Verification, VerificationRequest
from verifications.selectors import queue as sel
from verifications.services import queue as svc
from verifications.services.records import verification_record


@pytest.fixture(autouse=True)
def _db(request):
    # Every test runs in the rolled-back test transaction except the browser one, whose
    # live server (another connection) must see committed rows.
    if "browser_queue" not in request.fixturenames:
        request.getfixturevalue("db")


def cred(org, provider, kind="state_license", **fields):
    defaults = {"state": "TX" if kind in ("state_license", "cds") else "", "number": "N1"}
    with tenant_context(org):
        return Credential.objects.create(
            organization=org, provider=provider, kind=kind, **{**defaults, **fields}
        )


def record(tenant, provider, credential=None, *, source=None, result="verified", when=None):
    with tenant_context(tenant.org):
        return verification_record(
            org=tenant.org,
            actor=tenant.membership(tenant.coordinator),
            provider=provider,
            credential=credential,
            source=source or ("state_board" if credential else "oig"),
            method="web",
            result=result,
            verified_at=when,
        )


def keys(tenant, **filters):
    with tenant_context(tenant.org):
        rows = sel.queue_rows(org=tenant.org, **filters)
        return [i.key for i in sel.queue_items(org=tenant.org, rows=rows)]


def key(provider, credential=None, source="state_board"):
    return f"{provider.pk}:{credential.pk if credential else '-'}:{source}"


def actions(org, prefix="verifications."):
    with tenant_context(org):
        return list(
            AuditEvent.objects.filter(action__startswith=prefix)
            .order_by("seq")
            .values_list("action", flat=True)
        )


@pytest.fixture
def world(tenant_a):
    """Two active providers: Adams with a TX licence expiring in 12 days and a DEA; Baker
    (applicant) with a board certification and a committee meeting in 5 days."""
    org = tenant_a.org
    today = timezone.localdate()
    adams = make_provider(org, seed=11, last_name="Adams", status="active")
    baker = make_provider(org, seed=12, last_name="Baker", status="applicant")
    gone = make_provider(org, seed=13, last_name="Gone", status="terminated")
    lic = cred(org, adams, expiry_date=today + timedelta(days=12))
    dea = cred(org, adams, kind="dea", number="AB1234563", expiry_date=today + timedelta(days=300))
    board = cred(org, baker, kind="board_cert", expiry_date=today + timedelta(days=900))
    cred(org, gone, expiry_date=today + timedelta(days=1))
    life = cred(org, adams, kind="life_support", expiry_date=today + timedelta(days=2))
    with tenant_context(org):
        CommitteeReview.objects.create(
            organization=org,
            provider=baker,
            cycle="initial",
            meeting_date=today + timedelta(days=5),
        )
    # the provider-level checks are out of the way unless a test is about them
    for p in (adams, baker):
        for source in ("nppes", "oig", "sam"):
            record(tenant_a, p, source=source)
    return SimpleNamespace(adams=adams, baker=baker, lic=lic, dea=dea, board=board, life=life)


# --- what is in the queue, and in which order ----------------------------------------------
def test_the_queue_lists_psv_credentials_of_applicants_and_active_providers_most_urgent_first(
    tenant_a, world
):
    assert keys(tenant_a) == [
        key(world.baker, world.board, "board"),  # committee in 5 days
        key(world.adams, world.lic),  # expires in 12 days
        key(world.adams, world.dea, "dea"),  # expires in 300 days
    ]


def test_an_expired_or_inactive_credential_waits_for_its_renewal_not_in_the_queue(tenant_a, world):
    today = timezone.localdate()
    expired = cred(tenant_a.org, world.adams, number="OLD", expiry_date=today - timedelta(days=1))
    inactive = cred(tenant_a.org, world.adams, number="OFF", state="CA", status="inactive")
    queued = keys(tenant_a)
    assert key(world.adams, expired) not in queued
    assert key(world.adams, inactive) not in queued
    assert key(world.adams, world.lic) in queued  # expiring today+12: still verified


def test_the_reason_names_the_committee_or_the_expiry(tenant_a, world):
    with tenant_context(tenant_a.org):
        items = sel.queue_items(org=tenant_a.org, rows=sel.queue_rows(org=tenant_a.org))
    reasons = [i.reason for i in items]
    meeting = timezone.localdate() + timedelta(days=5)
    assert reasons[0] == f"Committee {meeting:%-d %b}"
    assert reasons[1] == "Expires in 12 days"


def test_a_current_verified_record_takes_the_element_out_of_the_queue(tenant_a, world):
    record(tenant_a, world.adams, world.lic)
    assert key(world.adams, world.lic) not in keys(tenant_a)


@pytest.mark.parametrize("result", ["discrepancy", "unable"])
def test_a_discrepancy_or_unable_to_verify_keeps_the_element_in_the_queue(tenant_a, world, result):
    record(tenant_a, world.adams, world.lic, result=result)
    assert key(world.adams, world.lic) in keys(tenant_a)


def test_a_record_older_than_the_validity_window_does_not_count(tenant_a, world):
    days = tenant_a.org.psv_validity_days
    record(tenant_a, world.adams, world.lic, when=timezone.now() - timedelta(days=days + 1))
    assert key(world.adams, world.lic) in keys(tenant_a)
    record(
        tenant_a, world.adams, world.dea, source="dea", when=timezone.now() - timedelta(days=days)
    )
    assert key(world.adams, world.dea, "dea") not in keys(tenant_a)


def test_the_queue_uses_only_the_current_head_of_a_corrected_chain(tenant_a, world):
    from verifications.services.records import verification_correct

    first = record(tenant_a, world.adams, world.lic)
    with tenant_context(tenant_a.org):
        verification_correct(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.coordinator),
            verification=first,
            reason="The board showed the licence as suspended",
            result="discrepancy",
        )
    assert key(world.adams, world.lic) in keys(tenant_a)


def test_provider_level_checks_queue_until_recorded(tenant_a):
    p = make_provider(tenant_a.org, seed=21, last_name="Check", status="active")
    assert set(keys(tenant_a)) == {key(p, None, s) for s in ("nppes", "oig", "sam")}
    record(tenant_a, p, source="oig")
    assert set(keys(tenant_a)) == {key(p, None, s) for s in ("nppes", "sam")}


def test_filters_by_source_coordinator_status_and_search(tenant_a, world):
    coordinator = tenant_a.membership(tenant_a.coordinator)
    with tenant_context(tenant_a.org):
        world.baker.coordinator = coordinator
        world.baker.save(update_fields=["coordinator"])
    assert keys(tenant_a, source="dea") == [key(world.adams, world.dea, "dea")]
    assert keys(tenant_a, coordinator=str(coordinator.pk)) == [
        key(world.baker, world.board, "board")
    ]
    assert keys(tenant_a, q="adam") == [
        key(world.adams, world.lic),
        key(world.adams, world.dea, "dea"),
    ]
    assert keys(tenant_a, status="requested") == []
    with tenant_context(tenant_a.org):
        svc.request_send(
            org=tenant_a.org,
            actor=coordinator,
            provider=world.adams,
            credential=world.lic,
            method="email",
            sent_to="verify@board.example",
        )
    assert keys(tenant_a, status="requested") == [key(world.adams, world.lic)]
    assert keys(tenant_a, status="overdue") == []
    with tenant_context(tenant_a.org):
        VerificationRequest.objects.filter(credential=world.lic).update(
            due_date=timezone.localdate() - timedelta(days=1)
        )
    assert keys(tenant_a, status="overdue") == [key(world.adams, world.lic)]
    assert key(world.adams, world.lic) not in keys(tenant_a, status="needs")


def test_an_assignment_makes_the_element_show_under_the_assignees_filter(tenant_a, world):
    admin = tenant_a.membership(tenant_a.admin)
    with tenant_context(tenant_a.org):
        svc.requests_assign(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.coordinator),
            elements=[(world.adams, world.dea, "dea")],
            assignee=admin,
        )
        req = VerificationRequest.objects.get(credential=world.dea)
    assert req.status == RequestStatus.OPEN and req.assigned_to_id == admin.pk
    assert keys(tenant_a, coordinator=str(admin.pk)) == [key(world.adams, world.dea, "dea")]
    assert actions(tenant_a.org)[-1] == "verifications.request.opened"


# --- the written request flow ---------------------------------------------------------------
def test_send_follow_up_and_cancel_are_recorded_and_audited(tenant_a, world):
    org, actor = tenant_a.org, tenant_a.membership(tenant_a.coordinator)
    today = timezone.localdate()
    with tenant_context(org):
        req = svc.request_send(
            org=org,
            actor=actor,
            provider=world.adams,
            credential=world.lic,
            method="fax",
            sent_to="+1 512 555 0100",
        )
        assert req.status == "requested" and req.method == "fax" and req.requested_at
        assert req.due_date == svc.add_business_days(today, 10)
        req = svc.request_follow_up(
            org=org, actor=actor, request=req, due_date=today + timedelta(days=3)
        )
        assert (
            req.follow_up_count == 1
            and req.last_follow_up_at
            and req.due_date == today + timedelta(days=3)
        )
        req = svc.request_cancel(
            org=org, actor=actor, request=req, reason="Verified online instead"
        )
        assert req.status == "cancelled"
        with pytest.raises(Conflict):
            svc.request_follow_up(org=org, actor=actor, request=req)
    assert actions(org)[-4:] == [
        "verifications.request.opened",
        "verifications.request.sent",
        "verifications.request.followed_up",
        "verifications.request.cancelled",
    ]


def test_a_cancel_without_a_reason_and_a_past_due_date_are_refused_and_change_nothing(
    tenant_a, world
):
    org, actor = tenant_a.org, tenant_a.membership(tenant_a.coordinator)
    with tenant_context(org):
        req = svc.request_open(org=org, actor=actor, provider=world.adams, credential=world.lic)
        before = actions(org)
        with pytest.raises(InvalidInput):
            svc.request_cancel(org=org, actor=actor, request=req, reason="  ")
        with pytest.raises(InvalidInput):
            svc.request_send(
                org=org,
                actor=actor,
                request=req,
                method="email",
                sent_to="a@b.example",
                due_date=timezone.localdate() - timedelta(days=1),
            )
        req.refresh_from_db()
    assert req.status == "open" and req.due_date is None
    assert actions(org) == before


def test_recording_a_verification_completes_the_open_request(tenant_a, world):
    org, actor = tenant_a.org, tenant_a.membership(tenant_a.coordinator)
    with tenant_context(org):
        req = svc.request_send(
            org=org,
            actor=actor,
            provider=world.adams,
            credential=world.lic,
            method="email",
            sent_to="verify@board.example",
        )
    v = record(tenant_a, world.adams, world.lic)
    with tenant_context(org):
        req.refresh_from_db()
    assert req.status == "completed" and v.request_id == req.pk


def test_business_days_skip_weekends():
    friday = date(2026, 11, 20)
    assert svc.add_business_days(friday, 1) == date(2026, 11, 23)
    assert svc.add_business_days(friday, 10) == date(2026, 12, 4)


# --- pages --------------------------------------------------------------------------------
def qurl(tenant, rest=""):
    return f"/o/{tenant.org.slug}/verifications/{rest}"


def test_the_queue_page_shows_rows_counts_and_reasons(tenant_a, world, login):
    response = login(tenant_a.coordinator).get(qurl(tenant_a))
    body = response.content.decode()
    assert response.status_code == 200
    assert "3 to verify" in body and "Texas Medical Board" in body and "Expires in 12 days" in body
    assert body.index("Baker") < body.index("Adams")


def test_the_queue_page_filters_from_the_url_and_answers_htmx_with_the_results(
    tenant_a, world, login
):
    response = login(tenant_a.auditor).get(qurl(tenant_a, "?source=dea"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "1 to verify" in body and "DEA registration AB1234563" in body and "Baker" not in body
    assert "Verify" not in body  # read-only role: no actions


def test_the_empty_queue_says_what_to_do(tenant_a, login):
    body = login(tenant_a.coordinator).get(qurl(tenant_a)).content.decode()
    assert "Nothing to verify." in body


def test_verifying_inline_from_a_row_records_it_with_evidence_and_the_row_leaves(
    tenant_a, world, login
):
    client = login(tenant_a.coordinator)
    url = qurl(tenant_a, f"verify/{world.adams.pk}/")
    form = client.get(url, {"row": "1", "credential": world.lic.pk}, HTTP_HX_REQUEST="true")
    assert form.status_code == 200 and 'name="source_state" value="TX"' in form.content.decode()
    response = client.post(
        url,
        {
            "row": "1",
            "credential": world.lic.pk,
            "element_source": "state_board",
            "source": "state_board",
            "source_state": "TX",
            "method": "web",
            "result": "verified",
            "verified_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "evidence": [
                SimpleUploadedFile("board.pdf", pdf_bytes()),
                SimpleUploadedFile("page2.pdf", pdf_bytes(2)),
            ],
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, response.content[:500]
    assert "left the queue" in response.content.decode()
    with tenant_context(tenant_a.org):
        v = Verification.objects.get(credential=world.lic)
        assert v.evidence.count() == 2 and v.verifier_user == tenant_a.coordinator
    assert key(world.adams, world.lic) not in keys(tenant_a)


def test_a_program_renamed_pdf_is_refused_and_no_verification_is_saved(tenant_a, world, login):
    client = login(tenant_a.coordinator)
    before = actions(tenant_a.org)
    response = client.post(
        qurl(tenant_a, f"verify/{world.adams.pk}/"),
        {
            "credential": world.lic.pk,
            "source": "state_board",
            "source_state": "TX",
            "method": "web",
            "result": "verified",
            "evidence": SimpleUploadedFile("board.pdf", b"MZ\x90\x00" + b"\x00" * 64),
        },
    )
    assert response.status_code == 400
    with tenant_context(tenant_a.org):
        assert not Verification.objects.filter(credential=world.lic).exists()
    assert actions(tenant_a.org) == before


def test_the_verify_form_from_the_provider_file_redirects_back(tenant_a, world, login):
    client = login(tenant_a.coordinator)
    back = f"/o/{tenant_a.org.slug}/providers/{world.baker.pk}/"
    response = client.post(
        qurl(tenant_a, f"verify/{world.baker.pk}/"),
        {
            "credential": world.board.pk,
            "source": "board",
            "source_name": "ABIM",
            "method": "web",
            "result": "verified",
            "next": back,
        },
    )
    assert response.status_code == 302 and response["Location"] == back


def test_send_request_from_a_row_answers_with_the_row_showing_it_requested(tenant_a, world, login):
    client = login(tenant_a.coordinator)
    response = client.post(
        qurl(tenant_a, f"send/{world.adams.pk}/"),
        {
            "credential": world.lic.pk,
            "source": "state_board",
            "method": "email",
            "sent_to": "verify@board.example",
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Requested" in body and "verify@board.example" in body
    with tenant_context(tenant_a.org):
        req = VerificationRequest.objects.get(credential=world.lic)
    response = client.post(
        qurl(tenant_a, f"requests/{req.pk}/follow-up/"), {"note": "called"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "1 follow-up" in response.content.decode()
    response = client.post(
        qurl(tenant_a, f"requests/{req.pk}/cancel/"), {"reason": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400 and "Say why" in response.content.decode()


def test_bulk_assign_assigns_every_ticked_row(tenant_a, world, login):
    client = login(tenant_a.coordinator)
    admin = tenant_a.membership(tenant_a.admin)
    response = client.post(
        qurl(tenant_a, "assign/"),
        {
            "assignee": admin.pk,
            "keys": [key(world.adams, world.lic), key(world.baker, world.board, "board")],
        },
    )
    assert response.status_code == 302
    with tenant_context(tenant_a.org):
        assert VerificationRequest.objects.filter(assigned_to=admin).count() == 2


def test_the_auditor_reads_the_queue_but_gets_403_on_every_write(tenant_a, world, login):
    client = login(tenant_a.auditor)
    before = actions(tenant_a.org)
    assert client.get(qurl(tenant_a)).status_code == 200
    assert client.get(qurl(tenant_a, f"verify/{world.adams.pk}/")).status_code == 403
    assert (
        client.post(
            qurl(tenant_a, f"verify/{world.adams.pk}/"),
            {
                "credential": world.lic.pk,
                "source": "state_board",
                "method": "web",
                "result": "verified",
            },
        ).status_code
        == 403
    )
    assert (
        client.post(
            qurl(tenant_a, f"send/{world.adams.pk}/"),
            {"credential": world.lic.pk, "method": "email", "sent_to": "x@y.example"},
        ).status_code
        == 403
    )
    assert (
        client.post(qurl(tenant_a, "assign/"), {"keys": [key(world.adams, world.lic)]}).status_code
        == 403
    )
    with tenant_context(tenant_a.org):
        assert not Verification.objects.filter(credential=world.lic).exists()
        assert not VerificationRequest.objects.exists()
    assert actions(tenant_a.org) == before


def test_an_outsider_cannot_verify_another_orgs_provider_through_their_own_org(
    tenant_a, tenant_b, world, login
):
    client = login(tenant_b.owner)
    response = client.post(
        f"/o/{tenant_b.org.slug}/verifications/verify/{world.adams.pk}/",
        {
            "credential": world.lic.pk,
            "source": "state_board",
            "method": "web",
            "result": "verified",
        },
    )
    assert response.status_code == 404
    with tenant_context(tenant_a.org):
        assert not Verification.objects.filter(credential=world.lic).exists()


def test_evidence_downloads_are_authorized_and_audited(tenant_a, tenant_b, world, login):
    with tenant_context(tenant_a.org):
        v = verification_record(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.coordinator),
            provider=world.adams,
            credential=world.lic,
            source="state_board",
            method="web",
            result="verified",
            evidence_files=[SimpleUploadedFile("board.pdf", pdf_bytes())],
        )
        evidence = v.evidence.get()
    url = qurl(tenant_a, f"evidence/{evidence.pk}/")
    response = login(tenant_a.auditor).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert actions(tenant_a.org)[-1] == "verifications.evidence.downloaded"
    assert login(tenant_b.owner).get(url).status_code == 404


# --- dashboard and speed ----------------------------------------------------------------------
def test_the_dashboard_block_counts_the_real_queue(tenant_a, world):
    with tenant_context(tenant_a.org):
        block = sel.dashboard_block(org=tenant_a.org)
    assert block["count"] == 3
    assert [i.key for i in block["top"]][0] == key(world.baker, world.board, "board")


def _queue_queries(client, org) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/o/{org.slug}/verifications/")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_queue_page_query_count_does_not_grow_with_the_roster(tenant_a, login):
    from tests.test_dashboard import build_roster

    client = login(tenant_a.coordinator)
    build_roster(tenant_a.org, 5, seed=300)
    _queue_queries(client, tenant_a.org)
    small = _queue_queries(client, tenant_a.org)
    build_roster(tenant_a.org, 200, seed=600)
    large = _queue_queries(client, tenant_a.org)
    assert small == large, (small, large)


# --- the browser ----------------------------------------------------------------------------
@pytest.fixture
def browser_queue(committed_tenant):
    """Built before the browser starts (Playwright's loop forbids ORM calls in its thread)."""
    t = committed_tenant
    today = timezone.localdate()
    provider = make_provider(
        t.org,
        seed=7101,
        first_name="Ines",
        last_name="Okafor",
        coordinator=t.membership(t.coordinator),
    )
    licence = cred(t.org, provider, number="TX-77812", expiry_date=today + timedelta(days=9))
    for source in ("nppes", "oig", "sam"):
        record(t, provider, source=source)
    return t, provider, licence


@pytest.mark.browser
def test_a_coordinator_verifies_a_licence_from_the_queue_in_a_few_clicks(
    browser_queue, tmp_path, request
):
    from tests.conftest import PASSWORD

    t, provider, licence = browser_queue
    live_url = request.getfixturevalue("live_url")
    page = request.getfixturevalue("page")
    evidence = tmp_path / "tmb.pdf"
    evidence.write_bytes(pdf_bytes())

    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(t.coordinator.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_url}/o/{t.org.slug}/verifications/")
    row = page.locator("tr.psv-row", has_text="TX-77812")
    assert "Expires in 9 days" in row.inner_text()
    row.get_by_role("link", name="Verify").click()
    form = page.locator("tr.psv-form-row form")
    form.wait_for()
    assert form.get_by_label("State").input_value() == "TX"
    form.get_by_label("Evidence").set_input_files(str(evidence))
    form.get_by_role("button", name="Save verification").click()
    page.get_by_text("It has left the queue.").wait_for()
    page.reload()
    assert page.locator("tr.psv-row", has_text="TX-77812").count() == 0
    assert "Nothing to verify." in page.content()


@pytest.fixture
def live_url(committed_db):
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    thread = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


@pytest.fixture
def page():
    import shutil

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        yield context.new_page()
        browser.close()


def test_a_request_for_a_credential_uses_the_source_its_kind_is_verified_with(tenant_a, world):
    org, actor = tenant_a.org, tenant_a.membership(tenant_a.coordinator)
    with tenant_context(org), pytest.raises(InvalidInput) as refused:
        svc.request_open(
            org=org, actor=actor, provider=world.adams, credential=world.dea, source="state_board"
        )
    assert "source" in refused.value.details
    with tenant_context(org), pytest.raises(InvalidInput):
        svc.request_open(org=org, actor=actor, provider=world.adams, credential=world.life)
    with tenant_context(org):
        assert not VerificationRequest.objects.filter(provider=world.adams).exists()
        request = svc.request_open(org=org, actor=actor, provider=world.adams, credential=world.dea)
    assert request.source == "dea"
