"""Payer shares: a coordinator sends a payer contact a signed, expiring link to one ready
package; the payer (no account) opens the page and downloads the PDF.

The token is signed (django.core.signing, its own salt) and names the organization and the
share; the share row names its package, so a link reaches exactly one package. Whether it
still works (expired, revoked) is the row's state. Every view, download and refusal is
recorded with the actor kind payer_link (the request middleware adds IP and user agent).
The token itself is never logged or audited.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from audit.models import ActorKind
from audit.services import Actor, audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, DomainError, InvalidInput
from credex.links import hourly_limit_exceeded
from credex.models import Membership, Organization
from credex.tenancy import tenant_context
from verifications.models import CredentialPackage, PackageShare, PackageStatus, PayerContact
from verifications.selectors.packages import share_state

SHARE_SALT = "credex.verifications.package_share"
# Requests one share link may make per hour before it is told to wait.
SHARE_REQUESTS_PER_HOUR = 120
# Requests per hour one address may make with links that are not valid at all.
INVALID_SHARE_REQUESTS_PER_HOUR = 60


class ShareInvalid(InvalidInput):
    """A link that was never valid (tampered, truncated, unknown)."""

    code = "share_invalid"


class ShareGone(DomainError):
    """A link that was valid and is no more (expired, revoked, package gone): 410."""

    code = "share_gone"
    status = 410

    def __init__(self, message: str, *, org=None, share=None, reason: str = ""):
        super().__init__(message, code=f"share_{reason}" if reason else None)
        self.org = org
        self.share = share
        self.reason = reason


class ShareRateLimited(DomainError):
    code = "throttled"
    status = 429


def share_token(share: PackageShare) -> str:
    return signing.dumps(
        {"org": str(share.organization_id), "share": str(share.pk)}, salt=SHARE_SALT
    )


def share_url(share: PackageShare) -> str:
    """The absolute public address of the share (a fresh signature for the same share)."""
    return settings.SITE_URL.rstrip("/") + reverse(
        "package_share_public", args=[share_token(share)]
    )


def share_actor(share: PackageShare) -> Actor:
    return Actor(kind=ActorKind.PAYER_LINK, id=str(share.pk), label=share.email)


def _clean(email: str, contact: PayerContact | None, days, message: str) -> tuple:
    max_days = settings.PACKAGE_SHARE_MAX_AGE_DAYS
    days = max_days if days in (None, "") else days
    errors = {}
    email = (email or (contact.email if contact else "") or "").strip()
    if not email:
        errors["email"] = "Choose a payer contact or enter an e-mail address."
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "Enter a valid e-mail address."
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= max_days:
        errors["days"] = f"Choose from 1 to {max_days} days."
    message = (message or "").strip()
    if len(message) > 2000:
        errors["message"] = "Keep the message under 2,000 characters."
    if errors:
        first = next(iter(errors.values()))
        raise InvalidInput(
            first if len(errors) == 1 else "Check the marked fields.", details=errors
        )
    return email, days, message


def share_create(
    *,
    org,
    actor,
    package: CredentialPackage,
    email: str = "",
    contact: PayerContact | None = None,
    days: int | None = None,
    message: str = "",
) -> PackageShare:
    """Share a ready package with a payer contact: a signed, expiring link, e-mailed."""
    require(actor, cap.CHANGE_ROSTER)
    if package.status != PackageStatus.READY:
        raise Conflict("Only a package that is ready can be shared.")
    if contact is not None and contact.organization_id != org.pk:
        raise InvalidInput("Unknown contact.", details={"contact": "not found"})
    email, days, message = _clean(email, contact, days, message)
    with transaction.atomic():
        share = PackageShare.objects.create(
            organization=org,
            package=package,
            contact=contact,
            email=email,
            message=message,
            created_by=actor if isinstance(actor, Membership) else None,
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="verifications.share.created",
            target=share,
            data={
                "package": str(package.pk),
                "provider": str(package.provider_id),
                "contact": str(contact.pk) if contact else None,
                "email": email,
                "days": days,
                "expires_at": share.expires_at.isoformat(),
            },
        )
        _send_share_email(org, actor, share)
    return share


def _send_share_email(org, actor, share: PackageShare) -> None:
    sender = getattr(getattr(actor, "user", None), "display_name", "") or org.name
    package = share.package
    body = render_to_string(
        "email/package_share.txt",
        {
            "org": org,
            "provider": package.provider,
            "package": package,
            "contact": share.contact,
            "sender": sender,
            "message": share.message,
            "url": share_url(share),
            "expires_at": share.expires_at,
        },
    )
    subject = f"{org.name}: credential package for {package.provider.full_name}"
    email = share.email
    transaction.on_commit(lambda: send_mail(subject, body, None, [email]))


def share_revoke(*, org, actor, share: PackageShare) -> PackageShare:
    """Stop a share link working at once."""
    require(actor, cap.CHANGE_ROSTER)
    if share.revoked_at:
        return share
    with transaction.atomic():
        share.revoked_at = timezone.now()
        share.revoked_by = actor if isinstance(actor, Membership) else None
        share.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="verifications.share.revoked",
            target=share,
            data={"package": str(share.package_id), "email": share.email},
        )
    return share


# --- the payer's side (no account: the signed link is the capability) ------------------------
def share_throttle_invalid(ip: str | None) -> None:
    """Count a request with an invalid link from this address; refuse past the limit."""
    limit = getattr(settings, "INVALID_SHARE_REQUESTS_PER_HOUR", INVALID_SHARE_REQUESTS_PER_HOUR)
    if hourly_limit_exceeded(f"share_invalid:{ip or 'unknown'}", limit):
        raise ShareRateLimited("Too many attempts. Wait an hour and try again.")


def share_throttle(share: PackageShare) -> None:
    """Count one request on this share; refuse past the hourly limit."""
    limit = getattr(settings, "SHARE_REQUESTS_PER_HOUR", SHARE_REQUESTS_PER_HOUR)
    if hourly_limit_exceeded(f"share:{share.pk}", limit):
        raise ShareRateLimited(
            "This link has been used many times in the last hour. Wait a while and try again."
        )


def _load(payload) -> tuple[Organization | None, PackageShare | None]:
    org = Organization.objects.filter(pk=payload.get("org")).first()
    if org is None:
        return None, None
    with tenant_context(org):
        share = (
            PackageShare.objects.select_related("package__provider")
            .filter(pk=payload.get("share"), organization=org)
            .first()
        )
    return org, share


def share_open(token: str) -> tuple[Organization, PackageShare]:
    """Check the token's signature and the share's state; return (org, share).

    Raises ShareInvalid (never valid) or ShareGone (expired, revoked, package gone).
    """
    try:
        payload = signing.loads(token, salt=SHARE_SALT)
    except signing.BadSignature:
        raise ShareInvalid(
            "This link is not valid. Check that you opened the whole link from the e-mail, "
            "or ask the organization that sent it for a new one."
        )
    org, share = _load(payload if isinstance(payload, dict) else {})
    if share is None:
        raise ShareInvalid("This link is not valid (it no longer exists).")
    state = share_state(share)
    if state == "revoked":
        raise ShareGone(
            f"This link was withdrawn by {org.name}. If you still need the credential "
            "package, ask them to share it again.",
            org=org,
            share=share,
            reason="revoked",
        )
    if state == "expired":
        raise ShareGone(
            f"This link expired on {timezone.localtime(share.expires_at):%d %B %Y}. "
            f"Ask {org.name} to share the package again.",
            org=org,
            share=share,
            reason="expired",
        )
    if share.package.status != PackageStatus.READY or not share.package.file:
        raise ShareGone(
            f"This package is no longer available. Ask {org.name} for a new one.",
            org=org,
            share=share,
            reason="unavailable",
        )
    return org, share


def share_record_refusal(*, org, share: PackageShare, reason: str) -> None:
    """Record that an expired or revoked link was opened."""
    with tenant_context(org):
        audit_record(
            org=org,
            actor=share_actor(share),
            action="verifications.share.refused",
            target=share,
            data={"package": str(share.package_id), "reason": reason},
        )


def share_visit(*, org, share: PackageShare) -> None:
    """Record that the payer opened the share's page."""
    now = timezone.now()
    with tenant_context(org):
        PackageShare.objects.filter(pk=share.pk).update(
            view_count=F("view_count") + 1, last_viewed_at=now
        )
        audit_record(
            org=org,
            actor=share_actor(share),
            action="verifications.share.viewed",
            target=share,
            data={"package": str(share.package_id), "provider": str(share.package.provider_id)},
        )


def share_download(*, org, share: PackageShare):
    """Open the shared package's file for the payer; counted and audited."""
    now = timezone.now()
    package = share.package
    with tenant_context(org):
        opened = package.file.open("rb")
        PackageShare.objects.filter(pk=share.pk).update(
            download_count=F("download_count") + 1, last_viewed_at=now
        )
        audit_record(
            org=org,
            actor=share_actor(share),
            action="verifications.share.downloaded",
            target=share,
            data={
                "package": str(package.pk),
                "provider": str(package.provider_id),
                "sha256": package.sha256,
            },
        )
    return opened
