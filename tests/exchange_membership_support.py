"""Shared by tests/test_exchange_membership.py and tests/test_exchange_operator.py: an
application made the production way, listings made directly (as tests/factories.py
populate_exchange does), the operator user, and readers of the rows and audit chains."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from credex.tenancy import tenant_context
from tests.conftest import make_user
from tests.factories import PDF_BYTES, make_provider


def application(**overrides) -> dict:
    """A valid application, as the service (and the API) take it."""
    return {
        "display_name": "Acme Health Credentialing",
        "profile": "A CVO in California.",
        "contact_name": "Casey Contact",
        "contact_email": "casey@acme.example",
        "contact_phone": "555-0100",
        "credentialing_requirements": "NCQA CR 2025; 120-day window.",
        "accrediting_body": "ncqa",
        "accrediting_state": "",
        "accreditation_status": "accredited",
        "accreditation_expires_on": (date.today() + timedelta(days=400)).isoformat(),
        "releases_attested": True,
        **overrides,
    }


def page_form(**overrides) -> dict:
    """The same application as the membership page posts it."""
    data = application(**overrides)
    attested = data.pop("releases_attested")
    form = {"action": "apply", **{k: v for k, v in data.items() if v is not None}}
    if attested:
        form["releases_attested"] = "on"
    return form


def apply(tenant, **overrides):
    from exchange.services.membership import membership_apply

    with tenant_context(tenant.org):
        return membership_apply(
            org=tenant.org,
            actor=tenant.membership(tenant.owner),
            evidence=SimpleUploadedFile("ncqa.pdf", PDF_BYTES),
            **application(**overrides),
        )


def make_operator(email="operator@credex.example"):
    user = make_user(email)
    user.is_exchange_operator = True
    user.save(update_fields=["is_exchange_operator"])
    return user


def approved(tenant, operator):
    from exchange.services.membership import membership_approve

    apply(tenant)
    return membership_approve(operator=operator, org_id=tenant.org.pk)


def make_listings(tenant, count=2, *, seed=900):
    """Live listings of verified records, created directly through the ORM."""
    from exchange.models import Listing
    from verifications.models import Verification

    owner = tenant.membership(tenant.owner)
    provider = make_provider(tenant.org, seed=seed)
    rows = []
    with tenant_context(tenant.org):
        for i in range(count):
            record = Verification.objects.create(
                organization=tenant.org,
                provider=provider,
                source="state_board",
                source_state="CA",
                method="web",
                result="verified",
                verifier_kind="member",
                verifier_label=owner.user.email,
                verified_at=timezone.now() - timedelta(days=i + 1),
            )
            rows.append(
                Listing.objects.create(
                    organization=tenant.org,
                    verification=record,
                    provider=provider,
                    seller_name=tenant.org.name,
                    npi=provider.npi,
                    clinician_name=provider.full_name,
                    source=record.source,
                    source_state="CA",
                    method=record.method,
                    verified_at=record.verified_at,
                    expires_at=record.verified_at + timedelta(days=120),
                    created_by=owner,
                )
            )
    return rows


def listing_states(tenant) -> list[tuple[str, str]]:
    from exchange.models import Listing

    with tenant_context(tenant.org):
        return sorted(Listing.objects.values_list("status", "status_reason"))


def membership_of(tenant):
    from exchange.models import ExchangeMembership

    with tenant_context(tenant.org):
        return ExchangeMembership.objects.filter(organization=tenant.org).first()


def accreditation_count(tenant) -> int:
    from exchange.models import Accreditation

    with tenant_context(tenant.org):
        return Accreditation.objects.count()


def directory(tenant):
    from exchange.models import MemberDirectory

    return MemberDirectory.objects.filter(member_id=tenant.org.pk).first()


def actions(tenant) -> list[str]:
    """The organization's audit chain, oldest first."""
    from audit.models import AuditEvent

    with tenant_context(tenant.org):
        return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


def platform_events(action: str):
    from django.db import connection, transaction

    from audit.models import AuditEvent

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.audit_platform', 'on', true)")
        rows = AuditEvent.objects.filter(organization__isnull=True, action=action)
        return list(rows.values("actor_kind", "actor_label", "data", "target_id"))
