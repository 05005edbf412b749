"""Exchange membership: an organization applies (profile, contact, requirements, its
accreditation with evidence, the releases attestation); the platform's exchange operator
approves, rejects, asks for more information, suspends and reinstates. The public face of a
member (MemberDirectory) follows every change through `directory_sync`.

Member writes run in the request's tenant scope. The operator's writes come from the console,
outside every tenant: each enters the applicant organization with `tenant_context(org)` (the
explicit platform path for writes) and is audited in the organization's chain and in the
platform chain (org=None), with the operator as actor.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from audit.services import Actor, audit_record
from billing.services.charges import membership_fee_charge
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, InvalidInput, NotFound
from credex.models import Membership, Organization, Role
from credex.tenancy import tenant_context
from exchange.models import (
    Accreditation,
    AccreditationStatus,
    AccreditingBody,
    ExchangeMembership,
    MemberDirectory,
    MembershipStatus,
)
from exchange.selectors.membership import in_good_standing
from exchange.services import standing
from roster.services.documents.sniffing import read_limited, sniff
from roster.validation import US_STATES

S = MembershipStatus
TEXT_LIMITS = {
    "display_name": 200,
    "contact_name": 200,
    "contact_email": 254,
    "contact_phone": 40,
    "profile": 5000,
    "credentialing_requirements": 10000,
}
REASON_LIMIT = 2000
# An accreditation runs at most a few years (NCQA and TJC: 3); further out is a typo.
MAX_EXPIRY_YEARS = 10


# --- validation --------------------------------------------------------------------------------


def _clean_profile(values: dict, *, partial: bool = False) -> dict:
    """The application's text fields, stripped and checked; InvalidInput names each bad one."""
    errors, clean = {}, {}
    for name, limit in TEXT_LIMITS.items():
        if partial and name not in values:
            continue
        value = values.get(name)
        value = "" if value is None else str(value).strip()
        if len(value) > limit:
            errors[name] = f"At most {limit} characters."
        clean[name] = value
    for name in ("display_name", "contact_name", "contact_email"):
        if name in clean and not clean[name] and name not in errors:
            errors[name] = "Required."
    email = clean.get("contact_email")
    if email and "contact_email" not in errors:
        try:
            validate_email(email)
        except ValidationError:
            errors["contact_email"] = "Enter a valid e-mail address, like name@example.org."
    if errors:
        raise InvalidInput("Check the marked fields.", details=errors)
    return clean


def _parse_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def _clean_accreditation(*, body, body_state, status, expires_on) -> dict:
    errors = {}
    body = str(body or "").strip().lower()
    body_state = str(body_state or "").strip().upper()
    status = str(status or "").strip().lower()
    if body not in AccreditingBody.values:
        errors["accrediting_body"] = "Choose NCQA, The Joint Commission, URAC, AAAHC, DNV or State."
    elif body == AccreditingBody.STATE:
        if body_state not in US_STATES:
            errors["accrediting_state"] = "Give the state's two-letter code (e.g. CA)."
    else:
        body_state = ""
    if status not in AccreditationStatus.values:
        errors["accreditation_status"] = "Choose accredited, provisional, expired or revoked."
    expiry = _parse_date(expires_on)
    today = timezone.localdate()
    if expiry is None:
        errors["accreditation_expires_on"] = "Give the expiry date (YYYY-MM-DD)."
    elif expiry.year > today.year + MAX_EXPIRY_YEARS:
        errors["accreditation_expires_on"] = (
            f"An accreditation expiring after {today.year + MAX_EXPIRY_YEARS} is not plausible."
        )
    if errors:
        raise InvalidInput("Check the marked fields.", details=errors)
    return {"body": body, "body_state": body_state, "status": status, "expires_on": expiry}


def _read_evidence(evidence) -> tuple[bytes, str, str] | None:
    """(bytes, file name, sha256) of a PDF/PNG/JPEG, sniffed like a roster document."""
    if evidence is None:
        return None
    try:
        data = read_limited(evidence)
        sniff(data)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, details={"evidence": exc.message}, code=exc.code) from exc
    name = (getattr(evidence, "name", "") or "evidence")[-255:]
    return data, name, hashlib.sha256(data).hexdigest()


def _actor_member(actor) -> Membership | None:
    return actor if isinstance(actor, Membership) else None


# --- the public directory ------------------------------------------------------------------------


def directory_sync(membership: ExchangeMembership) -> MemberDirectory:
    """Keep the member's public row in step: status, display name, good standing."""
    good = membership.status == S.APPROVED and in_good_standing(membership)
    entry, _ = MemberDirectory.objects.update_or_create(
        member_id=membership.organization_id,
        defaults={
            "display_name": membership.display_name,
            "status": membership.status,
            "good_standing": good,
            "updated_at": timezone.now(),
        },
    )
    return entry


# --- the member's side ---------------------------------------------------------------------------


def _accreditation_create(*, membership, actor, evidence, **fields) -> Accreditation:
    row = Accreditation(
        organization_id=membership.organization_id,
        membership=membership,
        recorded_by=_actor_member(actor),
        **fields,
    )
    if evidence is not None:
        data, name, digest = evidence
        row.evidence_name, row.evidence_sha256 = name, digest
        row.evidence.save(name, ContentFile(data), save=False)
    row.save()
    return row


def membership_apply(
    *,
    org,
    actor,
    display_name: str,
    contact_name: str,
    contact_email: str,
    contact_phone: str = "",
    profile: str = "",
    credentialing_requirements: str = "",
    accrediting_body: str,
    accrediting_state: str = "",
    accreditation_status: str,
    accreditation_expires_on,
    releases_attested: bool,
    evidence=None,
) -> ExchangeMembership:
    """Apply to the exchange (or re-apply after "info requested" or "rejected"): the
    membership goes to pending with a new accreditation row; audited."""
    require(actor, cap.MANAGE_EXCHANGE)
    clean = _clean_profile(
        {
            "display_name": display_name,
            "contact_name": contact_name,
            "contact_email": contact_email,
            "contact_phone": contact_phone,
            "profile": profile,
            "credentialing_requirements": credentialing_requirements,
        }
    )
    accreditation = _clean_accreditation(
        body=accrediting_body,
        body_state=accrediting_state,
        status=accreditation_status,
        expires_on=accreditation_expires_on,
    )
    if releases_attested is not True:
        raise InvalidInput(
            "Confirm that you hold your clinicians' releases.",
            details={"releases_attested": "Required: tick to attest."},
        )
    file = _read_evidence(evidence)
    now = timezone.now()
    with transaction.atomic():
        membership = ExchangeMembership.objects.select_for_update().filter(organization=org).first()
        reapplied = membership is not None
        if membership is None:
            membership = ExchangeMembership(organization=org)
        elif membership.status not in (S.INFO_REQUESTED, S.REJECTED):
            raise Conflict(
                f"This organization's membership is {membership.get_status_display().lower()}: "
                "there is nothing to apply for.",
                code="membership_exists",
                details={"status": membership.status},
            )
        for name, value in clean.items():
            setattr(membership, name, value)
        membership.status = S.PENDING
        membership.releases_attested = True
        membership.attested_by = _actor_member(actor)
        membership.attested_at = now
        membership.applied_at = now
        try:
            with transaction.atomic():
                membership.save()
        except IntegrityError as exc:  # a first application sent twice at once
            raise Conflict(
                "This organization has already applied.", code="membership_exists"
            ) from exc
        row = _accreditation_create(
            membership=membership, actor=actor, evidence=file, **accreditation
        )
        directory_sync(membership)
        audit_record(
            action="exchange.membership.reapplied" if reapplied else "exchange.membership.applied",
            actor=audit_actor(actor),
            org=org,
            target=membership,
            data={
                "display_name": membership.display_name,
                "accreditation": {
                    "id": str(row.pk),
                    "body": row.body,
                    "state": row.body_state,
                    "status": row.status,
                    "expires_on": row.expires_on.isoformat(),
                    "evidence_sha256": row.evidence_sha256,
                },
            },
        )
    return membership


def membership_update(*, org, actor, **fields) -> ExchangeMembership:
    """Change the profile and contact of an existing membership (its status stays); audited."""
    require(actor, cap.MANAGE_EXCHANGE)
    unknown = set(fields) - set(TEXT_LIMITS)
    if unknown:
        raise InvalidInput(
            "Unknown fields.", details=dict.fromkeys(unknown, "Not a membership field.")
        )
    clean = _clean_profile(fields, partial=True)
    with transaction.atomic():
        membership = ExchangeMembership.objects.select_for_update().filter(organization=org).first()
        if membership is None:
            raise NotFound("This organization has not applied to the exchange.")
        changed = {k: v for k, v in clean.items() if getattr(membership, k) != v}
        for name, value in changed.items():
            setattr(membership, name, value)
        if changed:
            membership.save()
            directory_sync(membership)
            audit_record(
                action="exchange.membership.updated",
                actor=audit_actor(actor),
                org=org,
                target=membership,
                data={"changed": sorted(changed)},
            )
    return membership


def accreditation_record(
    *, org, actor, body: str, body_state: str = "", status: str, expires_on, evidence=None
) -> Accreditation:
    """Record a (renewed) accreditation; an approved member's standing is refreshed at once
    (a renewal resumes the listings the lapse paused)."""
    require(actor, cap.MANAGE_EXCHANGE)
    fields = _clean_accreditation(
        body=body, body_state=body_state, status=status, expires_on=expires_on
    )
    file = _read_evidence(evidence)
    with transaction.atomic():
        membership = ExchangeMembership.objects.select_for_update().filter(organization=org).first()
        if membership is None:
            raise NotFound("Apply to the exchange first.")
        row = _accreditation_create(membership=membership, actor=actor, evidence=file, **fields)
        audit_record(
            action="exchange.accreditation.recorded",
            actor=audit_actor(actor),
            org=org,
            target=row,
            data={
                "body": row.body,
                "state": row.body_state,
                "status": row.status,
                "expires_on": row.expires_on.isoformat(),
                "evidence_sha256": row.evidence_sha256,
            },
        )
        standing.standing_refresh(org=org, actor=actor, membership=membership)
    return row


# --- the operator's side -------------------------------------------------------------------------


def _operator_check(operator) -> None:
    if not getattr(operator, "is_exchange_operator", False):
        raise NotFound("Not found.")


def _reason(value, field: str, what: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise InvalidInput(f"Give the {what}.", details={field: "Required."})
    if len(text) > REASON_LIMIT:
        raise InvalidInput(
            f"The {what} is too long.", details={field: f"At most {REASON_LIMIT} characters."}
        )
    return text


def member_notify(*, org, membership: ExchangeMembership, subject: str, template: str, context):
    """E-mail the membership's contact and the organization's owners after the commit."""
    owners = Membership.objects.filter(organization=org, role=Role.OWNER).select_related("user")
    recipients = sorted({membership.contact_email, *(m.user.email for m in owners)} - {""})
    url = settings.SITE_URL.rstrip("/") + reverse("exchange_home", kwargs={"org_slug": org.slug})
    body = render_to_string(template, {"org": org, "membership": membership, "url": url, **context})

    def send():
        send_mail(subject, body, None, recipients)

    transaction.on_commit(send)
    return recipients


DECISIONS = {
    "approve": (S.APPROVED, {S.PENDING, S.INFO_REQUESTED}, "approved"),
    "reject": (S.REJECTED, {S.PENDING, S.INFO_REQUESTED}, "rejected"),
    "request_info": (S.INFO_REQUESTED, {S.PENDING, S.INFO_REQUESTED}, "info_requested"),
    "suspend": (S.SUSPENDED, {S.APPROVED}, "suspended"),
    "reinstate": (S.APPROVED, {S.SUSPENDED}, "reinstated"),
}
SUBJECTS = {
    "approve": "{name}: your exchange membership is approved",
    "reject": "{name}: your exchange application was not approved",
    "request_info": "{name}: more information is needed for your exchange application",
    "suspend": "{name}: your exchange membership is suspended",
    "reinstate": "{name}: your exchange membership is reinstated",
}


def _decide(*, operator, org_id, decision: str, reason: str = "") -> ExchangeMembership:
    _operator_check(operator)
    to_status, from_statuses, verb = DECISIONS[decision]
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        raise NotFound("No such application.")
    actor = Actor.member(operator)
    now = timezone.now()
    with tenant_context(org):
        membership = ExchangeMembership.objects.select_for_update().filter(organization=org).first()
        if membership is None:
            raise NotFound("No such application.")
        if membership.status not in from_statuses:
            raise Conflict(
                f"The membership is {membership.get_status_display().lower()}: it cannot be "
                f"{verb.replace('_', ' ')} now.",
                code="membership_status",
                details={"status": membership.status},
            )
        before = membership.status
        membership.status = to_status
        if decision == "suspend":
            membership.suspended_at, membership.suspension_reason = now, reason
        elif decision == "reinstate":
            membership.suspended_at, membership.suspension_reason = None, ""
        else:
            membership.decided_at, membership.decided_by = now, operator
            membership.decision_reason = reason
        membership.save()
        count = None
        if decision == "suspend":
            count = standing.listings_pause_for(org=org, reason="suspended", actor=actor)
        elif decision == "reinstate":
            count = standing.listings_resume_for(org=org, reason="suspended", actor=actor)
        directory_sync(membership)
        data = {"from": before, "to": to_status, "reason": reason, "operator": operator.email}
        if count is not None:
            data["listings"] = count
        for chain_org in (org, None):
            audit_record(
                action=f"exchange.membership.{verb}",
                actor=actor,
                org=chain_org,
                target=membership,
                data=data if chain_org else {**data, "organization": str(org.pk)},
            )
        if decision in ("approve", "reinstate"):
            # A member approved (or back) with a lapsed accreditation sells nothing.
            standing.standing_refresh(org=org, actor=actor, membership=membership)
        if decision == "approve":
            # Joining starts the first membership year: its fee, at the organization's tier.
            membership_fee_charge(org=org, year=timezone.localdate().year, actor=actor)
        if decision in ("suspend", "reinstate"):
            # Only approved members' votes set the market rates.
            from exchange.services.pricing import market_rates_recompute_quarter

            market_rates_recompute_quarter(actor=actor)
        member_notify(
            org=org,
            membership=membership,
            subject=SUBJECTS[decision].format(name=membership.display_name),
            template="email/exchange_membership_decision.txt",
            context={"decision": decision, "reason": reason},
        )
    return membership


def membership_approve(*, operator, org_id) -> ExchangeMembership:
    """The operator approves a pending application (or one with information requested)."""
    return _decide(operator=operator, org_id=org_id, decision="approve")


def membership_reject(*, operator, org_id, reason: str) -> ExchangeMembership:
    """The operator rejects an application, with the reason the applicant is told."""
    reason = _reason(reason, "reason", "reason for the rejection")
    return _decide(operator=operator, org_id=org_id, decision="reject", reason=reason)


def membership_request_info(*, operator, org_id, message: str) -> ExchangeMembership:
    """The operator asks the applicant for more information (it re-applies to answer)."""
    message = _reason(message, "message", "information you need")
    return _decide(operator=operator, org_id=org_id, decision="request_info", reason=message)


def membership_suspend(*, operator, org_id, reason: str) -> ExchangeMembership:
    """The operator suspends an approved member: every live listing is paused ("suspended")."""
    reason = _reason(reason, "reason", "reason for the suspension")
    return _decide(operator=operator, org_id=org_id, decision="suspend", reason=reason)


def membership_reinstate(*, operator, org_id) -> ExchangeMembership:
    """The operator lifts a suspension: the listings it paused are resumed."""
    return _decide(operator=operator, org_id=org_id, decision="reinstate")


def operator_evidence_read(*, operator, org_id, accreditation: Accreditation) -> None:
    """Audit the operator's download of an accreditation's evidence (both chains)."""
    _operator_check(operator)
    actor = Actor.member(operator)
    org = Organization.objects.get(pk=org_id)
    with tenant_context(org):
        for chain_org in (org, None):
            audit_record(
                action="exchange.accreditation.evidence_downloaded",
                actor=actor,
                org=chain_org,
                target=accreditation,
                data={"sha256": accreditation.evidence_sha256, "organization": str(org.pk)},
            )


def operator_flag(*, email: str, password: str | None = None) -> tuple:
    """Create or flag the platform's exchange operator (manage.py exchange_operator); audited
    on the platform chain. Returns (user, created)."""
    from credex.models import User

    email = str(email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput("Give a valid e-mail address.", details={"email": "Invalid."}) from exc
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        created = user is None
        if created:
            user = User.objects.create_user(email=email, password=password)
        elif password:
            user.set_password(password)
        changed = created or not user.is_exchange_operator or bool(password)
        user.is_exchange_operator = True
        user.save()
        if created:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.get_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
        if changed:
            audit_record(
                action="exchange.operator.flagged",
                actor=Actor.system("manage.py exchange_operator"),
                org=None,
                target=user,
                data={"email": email, "created": created, "password_set": bool(password)},
            )
    return user, created
