"""Clinician releases: a clinician's authorization to share and obtain verifications through the
exchange, on file as an uploaded signed document or e-signed through a signed link.

- `release_record_document`: a member uploads the signed release (PDF, PNG or JPEG, read from
  its bytes and size-limited as roster documents are); its sha256 is stored.
- `release_request_esign`: a member asks the clinician to sign; the e-mail with the secure link
  (the RELEASE spec of credex.links) leaves on commit. The public page shows the exact release
  text (`release_text`, a fixed versioned template), a typed-name field and a consent box;
  `release_esign` stores the typed name, the time, the IP, the text shown and its sha256. A
  signed link answers 410 afterwards ("used").
- `release_revoke`: a member withdraws a release, with the reason.
- `release_document_open`: the audited read of a stored document.

Every state change is audited in its transaction (exchange.release.*,
exchange.release_request.*); what the clinician does through the link is recorded with the
actor kind provider_link.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import date

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from audit.models import ActorKind
from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput, NotFound
from credex.links import (
    LinkGone,
    LinkSpec,
    LinkTexts,
    link_create,
    link_days,
    link_state,
    link_url,
    register,
)
from credex.models import Membership
from exchange.models import ClinicianRelease, ReleaseMethod, ReleaseRequest
from roster.models import Provider
from roster.services.documents.files import clean_filename
from roster.services.documents.sniffing import read_limited, sniff
from verifications.models import VerificationSource

logger = logging.getLogger(__name__)

RELEASE_SALT = "credex.exchange.release"
# The release text is fixed and versioned: a change is a new version, so a stored text_shown
# always names the wording the clinician read.
RELEASE_TEXT_VERSION = "CredEx clinician release, version 1 (2026-12)"
RELEASE_TEXT = """{version}

Authorization to share and obtain primary-source verifications

I, {clinician}, authorize {org} to share the primary-source verifications it has made of my \
credentials with other member organizations of the CredEx verification exchange, and to \
obtain such verifications about me from them, for credentialing and re-credentialing only.

Scope: {scope}.

This authorization is effective on the date I sign it and expires on {expires}. I may revoke \
it at any time by telling {org}; a revocation does not undo sharing that took place before it.

By typing my name and confirming below I sign this authorization electronically, and agree \
that my electronic signature has the same effect as a handwritten one."""
NAME_MAX = 200
REASON_MAX = 500


# --- validation ----------------------------------------------------------------------------
def _printable(text: str) -> bool:
    return all(ch.isprintable() for ch in text)


def _check_provider(org, provider) -> Provider:
    """The provider must be on this organization's roster (another's: 404, as if absent)."""
    if not isinstance(provider, Provider) or provider.organization_id != org.pk:
        raise NotFound("No such provider.")
    return provider


def _clean_scope(scope_all, scope_sources, errors: dict) -> tuple[bool, list[str]]:
    if scope_all:
        return True, []
    chosen = []
    for source in scope_sources or []:
        if source not in VerificationSource.values:
            errors["scope_sources"] = "Choose verification types from the list."
            return False, []
        if source not in chosen:
            chosen.append(source)
    if not chosen:
        errors["scope_sources"] = "Choose at least one verification type, or all of them."
    return False, chosen


def _clean_expiry(expires_on, after: date, errors: dict, *, what: str) -> None:
    if not isinstance(expires_on, date):
        errors["expires_on"] = "Enter the date the release expires."
    elif expires_on <= after:
        errors["expires_on"] = f"The expiry must be after {what}."


def _raise(errors: dict) -> None:
    if errors:
        first = next(iter(errors.values()))
        raise InvalidInput(
            first if len(errors) == 1 else "Check the marked fields.", details=errors
        )


def _clean_email(email, provider: Provider, errors: dict) -> str:
    email = (email or provider.email or "").strip()
    if not email:
        errors["email"] = "The clinician has no e-mail address on file: enter one."
        return ""
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = "Enter a valid e-mail address."
    return email


def scope_words(release) -> str:
    """'all verification types' or the chosen types' names."""
    if release.scope_all:
        return "all verification types"
    labels = dict(VerificationSource.choices)
    return ", ".join(labels.get(s, s) for s in release.scope_sources)


def _data(release) -> dict:
    return {
        "provider": str(release.provider_id),
        "scope_all": release.scope_all,
        "scope_sources": list(release.scope_sources),
        "signed_on": release.signed_on,
        "expires_on": release.expires_on,
        "method": release.method,
    }


# --- a signed document ---------------------------------------------------------------------
def release_record_document(
    *,
    org,
    actor,
    provider: Provider,
    scope_all: bool,
    scope_sources,
    signed_on: date,
    expires_on: date,
    file,
    filename: str = "",
) -> ClinicianRelease:
    """Put a clinician's signed release document on file (sniffed, size-limited, sha256)."""
    require(actor, cap.TRADE_EXCHANGE)
    provider = _check_provider(org, provider)
    errors: dict = {}
    scope_all, scope_sources = _clean_scope(scope_all, scope_sources, errors)
    today = timezone.localdate()
    if not isinstance(signed_on, date):
        errors["signed_on"] = "Enter the date the clinician signed."
    elif signed_on > today:
        errors["signed_on"] = "The signing date cannot be in the future."
    else:
        _clean_expiry(expires_on, signed_on, errors, what="the signing date")
    if file is None:
        errors["file"] = "Choose the signed release (PDF, PNG or JPEG)."
    _raise(errors)
    data = read_limited(file)
    sniffed = sniff(data)
    release = ClinicianRelease(
        id=uuid.uuid4(),
        organization_id=org.pk,
        provider=provider,
        scope_all=scope_all,
        scope_sources=scope_sources,
        signed_on=signed_on,
        expires_on=expires_on,
        method=ReleaseMethod.DOCUMENT,
        document_name=clean_filename(filename or getattr(file, "name", "") or "release"),
        document_sha256=hashlib.sha256(data).hexdigest(),
        recorded_by=actor if isinstance(actor, Membership) else None,
    )
    # exchange.models.release_document_path names the object by organization and release id.
    release.document.save("release", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            release.save(force_insert=True)
            audit_record(
                org=org,
                actor=audit_actor(actor),
                action="exchange.release.recorded",
                target=release,
                data=_data(release)
                | {
                    "document_name": release.document_name,
                    "content_type": sniffed.content_type,
                    "size": len(data),
                    "sha256": release.document_sha256,
                },
            )
    except BaseException:
        _discard(release)
        raise
    return release


def _discard(release: ClinicianRelease) -> None:
    try:
        if release.document.name:
            release.document.storage.delete(release.document.name)
    except Exception:  # pragma: no cover - best effort; the row never existed
        logger.exception("could not remove orphaned release file %s", release.document.name)


def release_document_open(*, org, actor, release: ClinicianRelease):
    """Record the read of a release document and open it (the caller streams it)."""
    require(actor, cap.VIEW_EXCHANGE)
    if not release.document:
        raise NotFound("This release has no document on file.")
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action="exchange.release.document_downloaded",
        target=release,
        data={"provider": str(release.provider_id), "sha256": release.document_sha256},
    )
    return release.document.open("rb")


# --- revocation ----------------------------------------------------------------------------
def release_revoke(*, org, actor, release: ClinicianRelease, reason: str) -> ClinicianRelease:
    """Withdraw a release at once (it no longer counts for listing or buying), with the reason."""
    require(actor, cap.TRADE_EXCHANGE)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the release is revoked.", details={"reason": "Say why."})
    if len(reason) > REASON_MAX or not _printable(reason):
        message = f"Keep the reason to {REASON_MAX} printable characters."
        raise InvalidInput(message, details={"reason": message})
    with transaction.atomic():
        locked = ClinicianRelease.objects.select_for_update().get(organization=org, pk=release.pk)
        if locked.revoked_at:
            raise Conflict("This release is already revoked.")
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor if isinstance(actor, Membership) else None
        locked.revoked_reason = reason
        locked.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="exchange.release.revoked",
            target=locked,
            data={"provider": str(locked.provider_id), "reason": reason},
        )
    return locked


# --- e-signature through the signed link ---------------------------------------------------
def release_request_esign(
    *,
    org,
    actor,
    provider: Provider,
    scope_all: bool,
    scope_sources,
    expires_on: date,
    email: str | None = None,
) -> ReleaseRequest:
    """Ask the clinician to e-sign a release: a signed, expiring link, e-mailed on commit."""
    require(actor, cap.TRADE_EXCHANGE)
    provider = _check_provider(org, provider)
    errors: dict = {}
    scope_all, scope_sources = _clean_scope(scope_all, scope_sources, errors)
    _clean_expiry(expires_on, timezone.localdate(), errors, what="today")
    email = _clean_email(email, provider, errors)
    _raise(errors)
    days, _ = link_days(RELEASE, None)
    with transaction.atomic():
        request = link_create(
            RELEASE,
            org=org,
            actor=actor,
            days=days,
            provider=provider,
            scope_all=scope_all,
            scope_sources=scope_sources,
            release_expires_on=expires_on,
            email=email,
        )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="exchange.release_request.created",
            target=request,
            data={
                "provider": str(provider.pk),
                "scope_all": scope_all,
                "scope_sources": scope_sources,
                "release_expires_on": expires_on,
                "email": email,
                "link_expires_at": request.expires_at.isoformat(),
            },
        )
        _send_request_email(org, actor, request)
    return request


def release_request_url(request: ReleaseRequest) -> str:
    """The absolute public address of the request's link (a fresh signature)."""
    return link_url(RELEASE, request)


def _send_request_email(org, actor, request: ReleaseRequest) -> None:
    sender = getattr(getattr(actor, "user", None), "display_name", "") or org.name
    body = render_to_string(
        "email/release_request.txt",
        {
            "org": org,
            "provider": request.provider,
            "sender": sender,
            "scope": scope_words(request),
            "release_expires_on": request.release_expires_on,
            "url": release_request_url(request),
            "expires_at": request.expires_at,
        },
    )
    subject = f"{org.name} asks you to sign a verification release"
    email = request.email
    transaction.on_commit(lambda: send_mail(subject, body, None, [email]))


def release_text(*, org, request: ReleaseRequest) -> str:
    """The exact text the clinician is shown and signs."""
    return RELEASE_TEXT.format(
        version=RELEASE_TEXT_VERSION,
        clinician=request.provider.full_name,
        org=org.name,
        scope=scope_words(request),
        expires=f"{request.release_expires_on:%B} {request.release_expires_on.day}, "
        f"{request.release_expires_on.year}",
    )


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# These run inside the link's organization scope, which signed_link_view enters once.
def release_request_visit(*, org, request: ReleaseRequest) -> None:
    """Record that the clinician opened the release page."""
    ReleaseRequest.objects.filter(pk=request.pk).update(last_used_at=timezone.now())
    audit_record(
        org=org,
        actor=RELEASE.actor(request),
        action="exchange.release_request.viewed",
        target=request,
        data={"provider": str(request.provider_id)},
    )


def release_request_refused(*, org, request: ReleaseRequest, reason: str) -> None:
    """Record that a link that no longer works was opened."""
    audit_record(
        org=org,
        actor=RELEASE.actor(request),
        action="exchange.release_request.refused",
        target=request,
        data={"provider": str(request.provider_id), "reason": reason},
    )


def release_esign(
    *,
    org,
    request: ReleaseRequest,
    signer_name: str,
    consent: bool,
    shown_sha256: str,
    ip: str | None,
) -> ClinicianRelease:
    """The clinician signs through the link: the typed name, the time, the IP and the exact
    text shown (with its sha256) are stored on the new release. `shown_sha256` is the hash of
    the text the page showed; a text that changed since (the organization was renamed) is
    refused, so what is stored is always what was read."""
    errors: dict = {}
    name = " ".join((signer_name or "").split())
    if not name:
        errors["signer_name"] = "Type your full name to sign."
    elif len(name) > NAME_MAX or not _printable(signer_name.replace("\n", " ")):
        errors["signer_name"] = f"Type your name in at most {NAME_MAX} plain characters."
    if consent is not True:
        errors["consent"] = "Tick the box to confirm you agree."
    _raise(errors)
    with transaction.atomic():
        locked = (
            ReleaseRequest.objects.select_for_update()
            .select_related("provider")
            .get(organization=org, pk=request.pk)
        )
        if link_state(locked) != "active" or locked.release_id:
            raise LinkGone(RELEASE, "This release link no longer works.", org=org, row=locked)
        text = release_text(org=org, request=locked)
        if text_hash(text) != (shown_sha256 or ""):
            raise Conflict(
                "The release text changed while the page was open. Read it again and sign.",
                code="release_text_changed",
            )
        now = timezone.now()
        release = ClinicianRelease.objects.create(
            organization=org,
            provider=locked.provider,
            scope_all=locked.scope_all,
            scope_sources=locked.scope_sources,
            signed_on=timezone.localdate(),
            expires_on=locked.release_expires_on,
            method=ReleaseMethod.ESIGN,
            signer_name=name,
            signed_at=now,
            signer_ip=ip or None,
            text_shown=text,
            text_sha256=text_hash(text),
            recorded_by=locked.created_by,
        )
        locked.release = release
        locked.last_used_at = now
        locked.save(update_fields=["release", "last_used_at"])
        audit_record(
            org=org,
            actor=RELEASE.actor(locked),
            action="exchange.release.esigned",
            target=release,
            data=_data(release)
            | {
                "request": str(locked.pk),
                "signer_name": name,
                "signed_at": now.isoformat(),
                "ip": ip or "",
                "text_sha256": release.text_sha256,
            },
        )
    return release


def _used(request: ReleaseRequest) -> str | None:
    return "used" if request.release_id else None


RELEASE = register(
    LinkSpec(
        name="release",
        salt=RELEASE_SALT,
        model=ReleaseRequest,
        id_key="release",
        url_name="release_public",
        lifetime_setting="RELEASE_MAX_AGE_DAYS",
        actor_kind=ActorKind.PROVIDER_LINK,
        actor_label=lambda request: request.provider.full_name,
        record_visit=lambda org, request: release_request_visit(org=org, request=request),
        record_refusal=lambda org, request, reason: release_request_refused(
            org=org, request=request, reason=reason
        ),
        select_related=("provider",),
        signature_expires=True,
        refuse=_used,
        texts=LinkTexts(
            eyebrow="Verification release",
            invalid="This release link is not valid. Check that you opened the whole link from "
            "the e-mail, or ask for a new one.",
            unknown="This release link is not valid (it no longer exists).",
            expired="This release link has expired. Ask {org} for a new one.",
            revoked="This release link was withdrawn by {org}.",
            gone_help="{org} can send you a new link by e-mail if one is still needed.",
            other={
                "used": (
                    "This release is already signed",
                    "You signed this release already; the link cannot be used again.",
                )
            },
        ),
    )
)
