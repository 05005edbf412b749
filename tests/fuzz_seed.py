"""One organization with a row in every tenant table, and a real id for every URL parameter.

Shared by the fuzz tests (test_fuzz_api.py, test_fuzz_forms.py): generated requests name real
rows of org A, so they reach the views' logic instead of stopping at a 404.
"""

from __future__ import annotations

import contextlib
import traceback
from datetime import timedelta

from django.apps import apps
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone

from audit.models import AuditEvent
from credex.models import ApiKey, Membership, Organization, Role, User
from credex.tenancy import tenant_context
from tests.conftest import add_member, make_user
from tests.factories import populate_every_tenant_table

# A closed loopback port: a view that calls out fails fast instead of leaving the machine.
NOWHERE = "http://127.0.0.1:9"


def no_internet(settings) -> None:
    settings.NPPES_BASE_URL = NOWHERE
    settings.OIG_LEIE_URL = f"{NOWHERE}/leie.csv"
    settings.SAM_API_BASE_URL = NOWHERE
    settings.SAM_EXTRACT_URL = f"{NOWHERE}/sam.zip"


def _first_pk(model, org, **filters):
    row = model.objects.filter(organization=org, **filters).order_by("pk").first()
    return str(row.pk) if row else None


def seed(tenant) -> dict[str, str]:
    """Fill org A and return {URL parameter name: a real value of org A}."""
    from billing import models as bm
    from committee import models as com
    from credex.links import link_token
    from enrollment import models as enr
    from enrollment.models import PayerContact
    from exchange import models as x
    from exchange.models import ClinicianRelease, ReleaseRequest
    from exchange.services.releases import RELEASE
    from roster import models as r
    from roster.services.documents import upload_link_token
    from screening import models as s
    from screening.nppes import models as n
    from tests.test_api import invite, make_key
    from verifications import models as v
    from verifications.services.shares import share_token

    org = tenant.org
    provider = populate_every_tenant_table(tenant, seed=11)
    spare = make_user("spare@a.example")
    add_member(org, spare, Role.COORDINATOR)
    # The key in the path is not the key an API request authenticates with (revoking it would
    # turn every later request of the operation into a 401).
    make_key(tenant, role=Role.COORDINATOR, name="Path key")
    invitation = invite(tenant, email="pending@a.example")
    _seed_open_work(tenant)
    with tenant_context(org):
        package = v.CredentialPackage.objects.filter(organization=org).first()
        contact = PayerContact.objects.filter(organization=org).first()
        live_share = v.PackageShare.objects.create(
            organization=org,
            package=package,
            contact=contact,
            email=contact.email,
            created_by=tenant.membership(tenant.owner),
            expires_at=timezone.now() + timedelta(days=14),
        )
        link = r.UploadLink.objects.filter(organization=org).first()
        # A clinician release e-signature still to sign: only such a one renders its form.
        release_request = ReleaseRequest.objects.create(
            organization=org,
            provider=provider,
            release_expires_on=timezone.localdate() + timedelta(days=365),
            email="clinician@a.example",
            expires_at=timezone.now() + timedelta(days=14),
            created_by=tenant.membership(tenant.owner),
        )
        ids = {
            "org_slug": org.slug,
            "key_id": _first_pk(ApiKey, org, name="Path key"),
            "member_id": _first_pk(Membership, org, user=spare),
            "invitation_id": str(invitation.pk),
            # Routes that name a provider and one of its rows need both of the same provider.
            "provider_id": str(provider.pk),
            "provider_type": "MD",
            "credential_id": _first_pk(r.Credential, org, provider=provider),
            "document_id": _first_pk(r.Document, org),
            "link_id": str(link.pk),
            "enrollment_id": _first_pk(enr.Enrollment, org),
            "item_id": _first_pk(r.InboxItem, org),
            "payer_id": _first_pk(enr.Payer, org),
            "contract_id": _first_pk(enr.PayerContract, org),
            "review_id": _first_pk(com.CommitteeReview, org),
            "job_id": _first_pk(r.ImportJob, org),
            "suggestion_id": _first_pk(v.ExtractionSuggestion, org),
            "package_id": str(package.pk),
            "packet_id": _first_pk(v.ReverificationPacket, org),
            "contact_id": str(contact.pk),
            "share_id": str(live_share.pk),
            "evidence_id": _first_pk(v.VerificationEvidence, org),
            # The request awaiting its reply: only such a one renders cancel and follow-up.
            "request_id": _first_pk(v.VerificationRequest, org, status="requested"),
            "verification_id": _first_pk(v.Verification, org),
            "release_id": _first_pk(ClinicianRelease, org),
            "order_id": _first_pk(x.Order, org),
            "listing_id": _first_pk(x.Listing, org),
            "batch_id": _first_pk(x.ListingBatch, org),
            "dispute_id": _first_pk(x.Dispute, org),
            "hit_id": _first_pk(s.ScreeningHit, org),
            "screening_run_id": _first_pk(s.ScreeningRun, org),
            # The open difference: only an open one renders its Accept and Dismiss forms.
            "mismatch_id": _first_pk(n.NppesMismatch, org, status="open"),
            # The NPPES run: in the API's paths and the NPPES pages (the screening pages name
            # theirs run_id too; test_fuzz_forms maps that route to the screening run).
            "run_id": _first_pk(n.NppesRun, org),
            "invoice_id": _first_pk(bm.Invoice, org),
            "upload_token": upload_link_token(link),
            "share_token": share_token(live_share),
            "invite_token": _invite_token(invitation),
            "release_token": link_token(RELEASE, release_request),
        }
    return {name: value for name, value in ids.items() if value}


def _seed_open_work(tenant) -> None:
    """Rows whose forms only show while work is open: an NPPES difference to decide, and a
    PSV queue element with a request awaiting its reply."""
    from datetime import date

    from roster import models as r
    from screening.nppes import models as n
    from tests.factories import make_provider
    from verifications import models as v

    org, owner = tenant.org, tenant.membership(tenant.owner)
    provider = make_provider(org, seed=12, coordinator=owner)
    with tenant_context(org):
        cred = r.Credential.objects.create(
            organization=org,
            provider=provider,
            kind="state_license",
            number="B2",
            state="TX",
            issue_date=date(2024, 1, 1),
            expiry_date=timezone.localdate() + timedelta(days=200),
        )
        v.VerificationRequest.objects.create(
            organization=org,
            provider=provider,
            credential=cred,
            source="state_board",
            source_state="TX",
            status="requested",
            assigned_to=owner,
            created_by=owner,
        )
        n.NppesMismatch.objects.create(
            organization=org,
            provider=provider,
            field="name",
            our_value={"last": provider.last_name},
            nppes_value={"last": "JONES"},
            nppes_value_hash="j",
            severity="medium",
            status="open",
        )


def _invite_token(invitation) -> str:
    from credex import services

    return services._invite_token(invitation)


def tenant_models():
    """Every model with an organization key (the tenant tables)."""
    return [
        m
        for m in apps.get_models()
        if any(f.name == "organization" for f in m._meta.concrete_fields) and m is not AuditEvent
    ]


def row_counts(org) -> dict[str, int]:
    """Rows of every tenant table of `org`, its audit events, and the global accounts."""
    with tenant_context(org):
        counts = {
            m._meta.label: m.objects.filter(organization=org).count() for m in tenant_models()
        }
        counts["audit events"] = AuditEvent.objects.filter(organization=org).count()
    counts["organizations"] = Organization.objects.count()
    counts["users"] = User.objects.count()
    return counts


def _is_a_read(action: str) -> bool:
    # Reads of provider data and failed sign-ins are audited too; they change nothing.
    return action.endswith(".viewed") or action == "auth.login.failed"


def changed(org, before: dict[str, int], after: dict[str, int]) -> dict:
    """What was written between two row_counts (audit events of reads aside), with the actions
    of the new audit events."""
    diff = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    added = after["audit events"] - before["audit events"]
    if added > 0:
        with tenant_context(org):
            events = AuditEvent.objects.filter(organization=org).order_by("-seq")[:added]
            actions = sorted(e.action for e in events)
        if set(diff) == {"audit events"} and all(_is_a_read(a) for a in actions):
            return {}
        diff["audit actions"] = actions
    return diff


@contextlib.contextmanager
def wsgi_app():
    """Django's WSGI handler, kept on the test's connection and transaction.

    Django closes the connection at each request's start and end (close_old_connections);
    inside the test's transaction that would end it. Django's own test client disconnects the
    same receiver. Exceptions behind a 500 are collected so the report shows the cause.
    """
    errors: list[str] = []
    with capture_exceptions(errors):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            yield WSGIHandler(), errors
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


@contextlib.contextmanager
def capture_exceptions(errors: list[str]):
    """Collect the traceback of every exception a request turned into a 500."""

    def _on_exception(sender, request=None, **kwargs):
        errors.append(traceback.format_exc())

    got_request_exception.connect(_on_exception)
    try:
        yield errors
    finally:
        got_request_exception.disconnect(_on_exception)


def last_line(tb: str) -> str:
    lines = [line for line in tb.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
