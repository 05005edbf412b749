"""Payer shares: a coordinator sends a payer contact a signed, expiring link to one ready
package; the payer (no account) opens the page and downloads the PDF.

The token is signed (django.core.signing, its own salt) and names the organization and the
share; the share row names its package, so a link reaches exactly one package. Whether it
still works (expired, revoked) is the row's state. Every view, download and refusal is
recorded with the actor kind payer_link (the request middleware adds IP and user agent).
The token itself is never logged or audited.

The link is the `SHARE` spec of credex.links (token, state, throttle, refusal pages, the
page's scope); this module keeps what is the share's: its fields, the e-mail, the download,
the package-gone refusal and the audit events (verifications.share.*).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Model
from django.template.loader import render_to_string
from django.utils import timezone

from audit.models import ActorKind
from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput
from credex.links import (
    LinkSpec,
    LinkTexts,
    link_create,
    link_days,
    link_revoke,
    link_token,
    link_url,
    register,
)
from verifications.models import CredentialPackage, PackageShare, PackageStatus

SHARE_SALT = "credex.verifications.package_share"


def share_token(share: PackageShare) -> str:
    return link_token(SHARE, share)


def share_url(share: PackageShare) -> str:
    """The absolute public address of the share (a fresh signature for the same share)."""
    return link_url(SHARE, share)


def _clean(email: str, contact: Model | None, days, message: str) -> tuple:
    errors = {}
    email = (email or (contact.email if contact else "") or "").strip()
    if not email:
        errors["email"] = "Choose a payer contact or enter an e-mail address."
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "Enter a valid e-mail address."
    days, days_error = link_days(SHARE, days)
    if days_error:
        errors["days"] = days_error
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
    contact: Model | None = None,
    days: int | None = None,
    message: str = "",
) -> PackageShare:
    """Share a ready package with a payer contact: a signed, expiring link, e-mailed.

    `contact` is an enrollment.PayerContact (from `selectors.packages.contact_get`, i.e.
    hooks.payer_contacts; verifications does not import the app above it)."""
    require(actor, cap.CHANGE_ROSTER)
    if package.status != PackageStatus.READY:
        raise Conflict("Only a package that is ready can be shared.")
    if contact is not None and contact.organization_id != org.pk:
        raise InvalidInput("Unknown contact.", details={"contact": "not found"})
    email, days, message = _clean(email, contact, days, message)
    with transaction.atomic():
        share = link_create(
            SHARE,
            org=org,
            actor=actor,
            days=days,
            package=package,
            contact=contact,
            email=email,
            message=message,
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
    with transaction.atomic():
        if link_revoke(SHARE, row=share, actor=actor):
            audit_record(
                org=org,
                actor=audit_actor(actor),
                action="verifications.share.revoked",
                target=share,
                data={"package": str(share.package_id), "email": share.email},
            )
    return share


# --- the payer's side (no account: the signed link is the capability) ------------------------
# These run inside the share's organization scope, which signed_link_view enters once.
def _package_gone(share: PackageShare) -> str | None:
    """A share of a package that is no longer ready (or lost its file) does not open."""
    if share.package.status != PackageStatus.READY or not share.package.file:
        return "unavailable"
    return None


def share_record_refusal(*, org, share: PackageShare, reason: str) -> None:
    """Record that an expired or revoked link was opened."""
    audit_record(
        org=org,
        actor=SHARE.actor(share),
        action="verifications.share.refused",
        target=share,
        data={"package": str(share.package_id), "reason": reason},
    )


def share_visit(*, org, share: PackageShare) -> None:
    """Record that the payer opened the share's page."""
    PackageShare.objects.filter(pk=share.pk).update(
        view_count=F("view_count") + 1, last_viewed_at=timezone.now()
    )
    audit_record(
        org=org,
        actor=SHARE.actor(share),
        action="verifications.share.viewed",
        target=share,
        data={"package": str(share.package_id), "provider": str(share.package.provider_id)},
    )


def share_download(*, org, share: PackageShare):
    """Open the shared package's file for the payer; counted and audited."""
    package = share.package
    opened = package.file.open("rb")
    PackageShare.objects.filter(pk=share.pk).update(
        download_count=F("download_count") + 1, last_viewed_at=timezone.now()
    )
    audit_record(
        org=org,
        actor=SHARE.actor(share),
        action="verifications.share.downloaded",
        target=share,
        data={
            "package": str(package.pk),
            "provider": str(package.provider_id),
            "sha256": package.sha256,
        },
    )
    return opened


SHARE = register(
    LinkSpec(
        name="share",
        salt=SHARE_SALT,
        model=PackageShare,
        id_key="share",
        url_name="package_share_public",
        lifetime_setting="PACKAGE_SHARE_MAX_AGE_DAYS",
        actor_kind=ActorKind.PAYER_LINK,
        actor_label=lambda share: share.email,
        record_visit=lambda org, share: share_visit(org=org, share=share),
        record_refusal=lambda org, share, reason: share_record_refusal(
            org=org, share=share, reason=reason
        ),
        select_related=("package__provider",),
        refuse=_package_gone,
        requests_per_hour=120,
        invalid_requests_per_hour=60,
        texts=LinkTexts(
            eyebrow="Secure credential package",
            invalid="This link is not valid. Check that you opened the whole link from the "
            "e-mail, or ask the organization that sent it for a new one.",
            unknown="This link is not valid (it no longer exists).",
            expired="This link expired on {expires:%d %B %Y}. Ask {org} to share the package "
            "again.",
            revoked="This link was withdrawn by {org}. If you still need the credential "
            "package, ask them to share it again.",
            gone_help="{org} can share the package with you again by e-mail.",
            other={
                "unavailable": (
                    "This package is no longer available",
                    "This package is no longer available. Ask {org} for a new one.",
                )
            },
        ),
    )
)
