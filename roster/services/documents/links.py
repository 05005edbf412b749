"""Provider upload links: a coordinator sends a signed, expiring link requesting documents;
the provider (no account) opens it and uploads. The signed token names the organization and
the link; the link row says whether it still works (expired, revoked). Every public view and
upload is recorded with the actor kind provider_link.

The link is the `UPLOAD_LINK` spec of credex.links (token, state, throttle, refusal pages,
the page's scope); this module keeps what is the roster's: the request's fields, the e-mail,
the upload, and the audit events (roster.upload_link.*)."""

from __future__ import annotations

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from audit.models import ActorKind
from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import InvalidInput
from credex.links import (
    LinkGone,
    LinkSpec,
    LinkTexts,
    link_create,
    link_days,
    link_revoke,
    link_state,
    link_token,
    link_url,
    register,
)
from roster import hooks as roster_hooks
from roster.models import Document, DocumentKind, Provider, UploadLink
from roster.services.documents.files import (
    clean_kind,
    discard_file,
    document_audit_data,
    store_file,
)

UPLOAD_LINK_SALT = "credex.roster.upload_link"


def upload_link_token(link: UploadLink) -> str:
    return link_token(UPLOAD_LINK, link)


def upload_link_url(link: UploadLink) -> str:
    """The absolute public address of the link (a fresh signature for the same link)."""
    return link_url(UPLOAD_LINK, link)


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
    errors = {}
    try:
        kinds = _clean_kinds(kinds)
    except InvalidInput as exc:
        errors |= exc.details
    try:
        email = _clean_email(email, provider)
    except InvalidInput as exc:
        errors |= exc.details
    days, days_error = link_days(UPLOAD_LINK, days)
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
    with transaction.atomic():
        link = link_create(
            UPLOAD_LINK,
            org=org,
            actor=actor,
            days=days,
            provider=provider,
            requested_kinds=kinds,
            message=message,
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
    with transaction.atomic():
        if link_revoke(UPLOAD_LINK, row=link, actor=actor):
            audit_record(
                org=org,
                actor=audit_actor(actor),
                action="roster.upload_link.revoked",
                target=link,
                data={"provider": str(link.provider_id)},
            )
    return link


# --- the provider's side (no account: the signed link is the capability) --------------------
# These run inside the link's organization scope, which signed_link_view enters once.
def upload_link_record_refusal(*, org, link: UploadLink, reason: str) -> None:
    """Record that an expired or revoked link was opened."""
    audit_record(
        org=org,
        actor=UPLOAD_LINK.actor(link),
        action="roster.upload_link.refused",
        target=link,
        data={"provider": str(link.provider_id), "reason": reason},
    )


def upload_link_visit(*, org, link: UploadLink) -> None:
    """Record that the provider opened the link's page."""
    UploadLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
    audit_record(
        org=org,
        actor=UPLOAD_LINK.actor(link),
        action="roster.upload_link.viewed",
        target=link,
        data={"provider": str(link.provider_id)},
    )


def upload_link_record_upload_refused(*, org, link: UploadLink, kind: str, reason: str) -> None:
    """Record a refused upload through a link (nothing else changed)."""
    audit_record(
        org=org,
        actor=UPLOAD_LINK.actor(link),
        action="roster.upload_link.upload_refused",
        target=link,
        data={"provider": str(link.provider_id), "kind": kind, "reason": reason},
    )


def upload_link_upload(*, org, link: UploadLink, kind: str, file, filename: str = "") -> Document:
    """The provider uploads one requested document through the link; it waits for review.

    Runs in the link's organization scope (the public page's, or the caller's)."""
    if link_state(link) != "active":
        raise LinkGone(UPLOAD_LINK, "This upload link no longer works.", org=org, row=link)
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
        with transaction.atomic():
            document.save(force_insert=True)
            UploadLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
            audit_record(
                org=org,
                actor=UPLOAD_LINK.actor(link),
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


UPLOAD_LINK = register(
    LinkSpec(
        name="upload_link",
        salt=UPLOAD_LINK_SALT,
        model=UploadLink,
        id_key="link",
        url_name="upload_link_public",
        lifetime_setting="UPLOAD_LINK_MAX_AGE_DAYS",
        actor_kind=ActorKind.PROVIDER_LINK,
        actor_label=lambda link: link.provider.full_name,
        record_visit=lambda org, link: upload_link_visit(org=org, link=link),
        record_refusal=lambda org, link, reason: upload_link_record_refusal(
            org=org, link=link, reason=reason
        ),
        select_related=("provider",),
        # A link's lifetime is at most UPLOAD_LINK_MAX_AGE_DAYS, so an older signature is
        # expired whatever the row says.
        signature_expires=True,
        requests_per_hour=120,
        invalid_requests_per_hour=60,
        texts=LinkTexts(
            eyebrow="Secure document upload",
            invalid="This upload link is not valid. Check that you opened the whole link from "
            "the e-mail, or ask for a new one.",
            unknown="This upload link is not valid (it no longer exists).",
            expired="This upload link has expired. Ask {org} for a new one.",
            revoked="This upload link was withdrawn by {org}. If you still need to send "
            "documents, ask them for a new link.",
            gone_help="Nothing you sent before is lost. {org} can send you a new link by e-mail.",
        ),
    )
)
