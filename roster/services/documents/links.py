"""Provider upload links: a coordinator sends a signed, expiring link requesting documents;
the provider (no account) opens it and uploads. The signed token names the organization and
the link; the link row says whether it still works (expired, revoked). Every public view and
upload is recorded with the actor kind provider_link."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from audit.models import ActorKind
from audit.services import Actor, audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import DomainError, InvalidInput
from credex.links import hourly_limit_exceeded
from credex.models import Membership, Organization
from credex.tenancy import tenant_context
from roster import hooks as roster_hooks
from roster.models import Document, DocumentKind, Provider, UploadLink
from roster.services.documents.files import (
    clean_kind,
    discard_file,
    document_audit_data,
    store_file,
)

UPLOAD_LINK_SALT = "credex.roster.upload_link"
# Requests (page views and uploads) one link may make per hour before it is told to wait.
UPLOAD_LINK_REQUESTS_PER_HOUR = 120
# Requests per hour one address may make with links that are not valid at all.
INVALID_LINK_REQUESTS_PER_HOUR = 60


class UploadLinkInvalid(InvalidInput):
    """A link that was never valid (tampered, truncated, unknown)."""

    code = "upload_link_invalid"


class UploadLinkGone(DomainError):
    """A link that was valid and is no more (expired or revoked): 410."""

    code = "upload_link_gone"
    status = 410

    def __init__(self, message: str, *, org=None, link=None, reason: str = ""):
        super().__init__(message, code=f"upload_link_{reason}" if reason else None)
        self.org = org
        self.link = link
        self.reason = reason


class UploadLinkRateLimited(DomainError):
    code = "throttled"
    status = 429


def upload_link_token(link: UploadLink) -> str:
    return signing.dumps(
        {"org": str(link.organization_id), "link": str(link.pk)}, salt=UPLOAD_LINK_SALT
    )


def upload_link_url(link: UploadLink) -> str:
    """The absolute public address of the link (a fresh signature for the same link)."""
    return settings.SITE_URL.rstrip("/") + reverse(
        "upload_link_public", args=[upload_link_token(link)]
    )


def upload_link_state(link: UploadLink) -> str:
    """active, expired or revoked."""
    if link.revoked_at:
        return "revoked"
    if link.expires_at <= timezone.now():
        return "expired"
    return "active"


def link_actor(link: UploadLink) -> Actor:
    return Actor(kind=ActorKind.PROVIDER_LINK, id=str(link.pk), label=link.provider.full_name)


def _clean_kinds(kinds) -> list[str]:
    chosen = []
    for kind in kinds or []:
        if kind in DocumentKind.values and kind not in chosen:
            chosen.append(kind)
    if not chosen:
        raise InvalidInput(
            "Choose at least one document to request.",
            details={"kinds": "Choose at least one document to request."},
        )
    return chosen


def _clean_email(email: str, provider: Provider) -> str:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    email = (email or provider.email or "").strip()
    if not email:
        raise InvalidInput(
            "The provider has no e-mail address. Enter one to send the link to.",
            details={"email": "Enter the provider's e-mail address."},
        )
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            "Enter a valid e-mail address.", details={"email": "Enter a valid e-mail address."}
        )
    return email


def upload_link_create(
    *,
    org,
    actor,
    provider: Provider,
    kinds,
    message: str = "",
    email: str = "",
    days: int | None = None,
) -> UploadLink:
    """Create a signed, expiring link requesting documents and e-mail it to the provider."""
    require(actor, cap.CHANGE_ROSTER)
    max_days = settings.UPLOAD_LINK_MAX_AGE_DAYS
    days = max_days if days in (None, "") else days
    errors = {}
    try:
        kinds = _clean_kinds(kinds)
    except InvalidInput as exc:
        errors |= exc.details
    try:
        email = _clean_email(email, provider)
    except InvalidInput as exc:
        errors |= exc.details
    if not isinstance(days, int) or not 1 <= days <= max_days:
        errors["days"] = f"Choose from 1 to {max_days} days."
    message = (message or "").strip()
    if len(message) > 2000:
        errors["message"] = "Keep the message under 2,000 characters."
    if errors:
        first = next(iter(errors.values()))
        raise InvalidInput(
            first if len(errors) == 1 else "Check the marked fields.", details=errors
        )
    with transaction.atomic():
        link = UploadLink.objects.create(
            organization=org,
            provider=provider,
            requested_kinds=kinds,
            message=message,
            created_by=actor if isinstance(actor, Membership) else None,
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.upload_link.created",
            target=link,
            data={
                "provider": str(provider.pk),
                "requested_kinds": kinds,
                "email": email,
                "days": days,
                "expires_at": link.expires_at.isoformat(),
            },
        )
        _send_link_email(org, actor, link, email)
    return link


def _send_link_email(org, actor, link: UploadLink, email: str) -> None:
    sender = getattr(getattr(actor, "user", None), "display_name", "") or org.name
    labels = dict(DocumentKind.choices)
    body = render_to_string(
        "email/upload_link.txt",
        {
            "org": org,
            "provider": link.provider,
            "sender": sender,
            "message": link.message,
            "kinds": [labels[k] for k in link.requested_kinds],
            "url": upload_link_url(link),
            "expires_at": link.expires_at,
        },
    )
    subject = f"{org.name} asks you to upload credentialing documents"
    transaction.on_commit(lambda: send_mail(subject, body, None, [email]))


def upload_link_revoke(*, org, actor, link: UploadLink) -> UploadLink:
    """Stop a link working at once."""
    require(actor, cap.CHANGE_ROSTER)
    if link.revoked_at:
        return link
    with transaction.atomic():
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.upload_link.revoked",
            target=link,
            data={"provider": str(link.provider_id)},
        )
    return link


# --- the provider's side (no account: the signed link is the capability) --------------------
def upload_link_throttle_invalid(ip: str | None) -> None:
    """Count a request with an invalid link from this address; refuse past the limit."""
    limit = getattr(
        settings, "INVALID_UPLOAD_LINK_REQUESTS_PER_HOUR", INVALID_LINK_REQUESTS_PER_HOUR
    )
    if hourly_limit_exceeded(f"upload_link_invalid:{ip or 'unknown'}", limit):
        raise UploadLinkRateLimited("Too many attempts. Wait an hour and try again.")


def upload_link_open(token: str) -> tuple[Organization, UploadLink]:
    """Check the token's signature, age and the link's state; return (org, link).

    Call inside tenant_context(org) is not needed: this enters the organization named by the
    signed token only to read the link. Raises UploadLinkInvalid / UploadLinkGone.
    """
    max_age = timedelta(days=settings.UPLOAD_LINK_MAX_AGE_DAYS).total_seconds()
    try:
        payload = signing.loads(token, salt=UPLOAD_LINK_SALT, max_age=max_age)
    except signing.SignatureExpired:
        org, link = _unverified_link(token)
        raise UploadLinkGone(
            "This upload link has expired. Ask "
            f"{org.name if org else 'the organization that sent it'} for a new one.",
            org=org,
            link=link,
            reason="expired",
        )
    except signing.BadSignature:
        raise UploadLinkInvalid(
            "This upload link is not valid. Check that you opened the whole link from the "
            "e-mail, or ask for a new one."
        )
    org = Organization.objects.filter(pk=payload.get("org")).first()
    if org is None:
        raise UploadLinkInvalid("This upload link is not valid.")
    with tenant_context(org):
        link = (
            UploadLink.objects.select_related("provider")
            .filter(pk=payload.get("link"), organization=org)
            .first()
        )
    if link is None:
        raise UploadLinkInvalid("This upload link is not valid (it no longer exists).")
    state = upload_link_state(link)
    if state == "revoked":
        raise UploadLinkGone(
            f"This upload link was withdrawn by {org.name}. If you still need to send "
            "documents, ask them for a new link.",
            org=org,
            link=link,
            reason="revoked",
        )
    if state == "expired":
        raise UploadLinkGone(
            f"This upload link has expired. Ask {org.name} for a new one.",
            org=org,
            link=link,
            reason="expired",
        )
    return org, link


def _unverified_link(token: str) -> tuple[Organization | None, UploadLink | None]:
    """For an expired but authentic token: the organization and link, to say who to ask
    and to record the refusal. The signature is checked (no max_age); only age failed."""
    try:
        payload = signing.loads(token, salt=UPLOAD_LINK_SALT)
    except signing.BadSignature:
        return None, None
    org = Organization.objects.filter(pk=payload.get("org")).first()
    if org is None:
        return None, None
    with tenant_context(org):
        link = (
            UploadLink.objects.select_related("provider")
            .filter(pk=payload.get("link"), organization=org)
            .first()
        )
    return org, link


def upload_link_throttle(link: UploadLink) -> None:
    """Count one request on this link; refuse past the hourly limit."""
    limit = getattr(settings, "UPLOAD_LINK_REQUESTS_PER_HOUR", UPLOAD_LINK_REQUESTS_PER_HOUR)
    if hourly_limit_exceeded(f"upload_link:{link.pk}", limit):
        raise UploadLinkRateLimited(
            "This link has been used many times in the last hour. Wait a while and try again."
        )


def upload_link_record_refusal(*, org, link: UploadLink, reason: str) -> None:
    """Record that an expired or revoked link was opened."""
    with tenant_context(org):
        audit_record(
            org=org,
            actor=link_actor(link),
            action="roster.upload_link.refused",
            target=link,
            data={"provider": str(link.provider_id), "reason": reason},
        )


def upload_link_visit(*, org, link: UploadLink) -> None:
    """Record that the provider opened the link's page."""
    with tenant_context(org):
        UploadLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
        audit_record(
            org=org,
            actor=link_actor(link),
            action="roster.upload_link.viewed",
            target=link,
            data={"provider": str(link.provider_id)},
        )


def upload_link_record_upload_refused(*, org, link: UploadLink, kind: str, reason: str) -> None:
    """Record a refused upload through a link, in its own scope (nothing else changed)."""
    with tenant_context(org):
        audit_record(
            org=org,
            actor=link_actor(link),
            action="roster.upload_link.upload_refused",
            target=link,
            data={"provider": str(link.provider_id), "kind": kind, "reason": reason},
        )


def upload_link_upload(*, org, link: UploadLink, kind: str, file, filename: str = "") -> Document:
    """The provider uploads one requested document through the link; it waits for review."""
    if upload_link_state(link) != "active":
        raise UploadLinkGone("This upload link no longer works.", org=org, link=link)
    kind = clean_kind(kind, link.requested_kinds)
    filename = filename or getattr(file, "name", "") or "document"
    try:
        document, sniffed = store_file(
            org=org,
            provider=link.provider,
            kind=kind,
            upload=file,
            filename=filename,
            upload_link=link,
        )
    except InvalidInput as exc:
        upload_link_record_upload_refused(org=org, link=link, kind=kind, reason=exc.code)
        raise
    try:
        with tenant_context(org):
            document.save(force_insert=True)
            UploadLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
            audit_record(
                org=org,
                actor=link_actor(link),
                action="roster.document.uploaded",
                target=document,
                data=document_audit_data(document, sniffed, "upload_link")
                | {"upload_link": str(link.pk)},
            )
            roster_hooks.document_received.run(org=org, document=document)
    except BaseException:
        discard_file(document)
        raise
    return document
