"""Actions that change organizations, members, invitations and API keys.

Each service takes the acting member (or API key) and the organization explicitly, checks
the capability, writes in one transaction, and records an audit event in that transaction.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from audit.services import Actor, audit_record
from credex import capabilities as cap
from credex import member_hooks, org_hooks
from credex.actors import audit_actor, require
from credex.errors import Conflict, Forbidden, InvalidInput, NotFound
from credex.member_hooks import OpenWork
from credex.models import (
    PSV_VALIDITY_DAYS,
    RECREDENTIALING_CYCLE_MONTHS,
    ApiKey,
    Invitation,
    Membership,
    Organization,
    Role,
    User,
)
from credex.tenancy import tenant_context
from credex.writes import check_writes

INVITE_SALT = "credex.invitation"


# --- organizations ---------------------------------------------------------------------
ORG_NAME_MAX = Organization._meta.get_field("name").max_length


def _name_too_long() -> str:
    return f"Keep the organization's name to {ORG_NAME_MAX} characters."


def organization_create(*, name: str, owner: User, slug: str = "") -> Organization:
    """Create an organization with `owner` as its first owner."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Give the organization a name.", details={"name": "required"})
    if len(name) > ORG_NAME_MAX:
        # Past the column's length the insert was a DataError, a 500.
        raise InvalidInput(_name_too_long(), details={"name": _name_too_long()})
    slug = slugify(slug or name)[:50] or "org"
    base, n = slug, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    with transaction.atomic():
        org = Organization.objects.create(name=name, slug=slug)
        with tenant_context(org, user_id=owner.pk):
            Membership.objects.create(organization=org, user=owner, role=Role.OWNER)
            audit_record(
                org=org,
                actor=Actor.member(owner),
                action="org.created",
                target=org,
                data={"name": name, "slug": slug},
            )
            org_hooks.organization_created.run(org=org, owner=owner)
    return org


SETTINGS_FIELDS = (
    "name",
    "recredentialing_cycle_months",
    "psv_validity_days",
    "require_mfa",
    "import_documents_can_follow",
)


def organization_update_settings(*, org: Organization, actor, **changes) -> Organization:
    """Change organization settings; records each changed field, before and after."""
    require(actor, cap.CHANGE_SETTINGS)
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise InvalidInput("Unknown settings.", details=dict.fromkeys(unknown, "unknown"))
    errors = {}
    if "name" in changes and not str(changes["name"]).strip():
        errors["name"] = "The name cannot be empty."
    elif "name" in changes and len(str(changes["name"])) > ORG_NAME_MAX:
        errors["name"] = _name_too_long()
    if "recredentialing_cycle_months" in changes:
        months = changes["recredentialing_cycle_months"]
        low, high = RECREDENTIALING_CYCLE_MONTHS
        if not isinstance(months, int) or not low <= months <= high:
            errors["recredentialing_cycle_months"] = (
                f"Enter a whole number of months from {low} to {high} "
                f"(NCQA requires at most {high})."
            )
    if "psv_validity_days" in changes:
        days = changes["psv_validity_days"]
        low, high = PSV_VALIDITY_DAYS
        if not isinstance(days, int) or not low <= days <= high:
            errors["psv_validity_days"] = (
                f"Enter a whole number of days from {low} to {high} (NCQA allows at most 120 "
                "for most elements)."
            )
    if errors:
        raise InvalidInput("Some settings are not valid.", details=errors)
    diff = {}
    for field, value in changes.items():
        before = getattr(org, field)
        if before != value:
            diff[field] = {"from": before, "to": value}
            setattr(org, field, value)
    if diff:
        with transaction.atomic():
            org.save(update_fields=list(diff))
            audit_record(
                org=org,
                actor=audit_actor(actor),
                action="org.settings.changed",
                target=org,
                data={"changes": diff},
            )
    return org


# --- invitations -------------------------------------------------------------------------
def _invite_token(invitation: Invitation) -> str:
    return signing.dumps(
        {"org": str(invitation.organization_id), "inv": str(invitation.pk)}, salt=INVITE_SALT
    )


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(
        "invitation_accept", args=[_invite_token(invitation)]
    )


def _check_role_grant(actor, role: str) -> None:
    if role not in Role.values:
        raise InvalidInput("Choose a role.", details={"role": f"one of {', '.join(Role.values)}"})
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise Forbidden("Only an owner can make someone an owner.")


def membership_invite(*, org: Organization, actor, email: str, role: str) -> Invitation:
    """Invite an e-mail address to the organization; the e-mail is sent after commit."""
    require(actor, cap.MANAGE_MEMBERS)
    email = (email or "").strip().lower()
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("Enter a valid e-mail address.", details={"email": "invalid"})
    _check_role_grant(actor, role)
    if Membership.objects.filter(organization=org, user__email__iexact=email).exists():
        raise Conflict("That person is already a member.", details={"email": "already a member"})
    with transaction.atomic():
        _replace_expired_invitation(org=org, actor=actor, email=email)
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    organization=org,
                    email=email,
                    role=role,
                    invited_by=actor if isinstance(actor, Membership) else None,
                    expires_at=timezone.now() + settings.INVITATION_MAX_AGE,
                )
        except IntegrityError:
            raise Conflict(
                f"An invitation to {email} is already waiting. Revoke it to send a new one.",
                details={"email": "already invited"},
            )
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="member.invitation.sent",
            target=invitation,
            data={"email": email, "role": role},
        )
        url = invitation_url(invitation)
        inviter = getattr(getattr(actor, "user", None), "display_name", "A colleague")
        body = render_to_string(
            "email/invitation.txt",
            {
                "org": org,
                "url": url,
                "inviter": inviter,
                "role": invitation.get_role_display(),
                "days": settings.INVITATION_MAX_AGE.days,
            },
        )
        transaction.on_commit(
            lambda: send_mail(f"You're invited to {org.name} on CredEx", body, None, [email])
        )
    return invitation


def _replace_expired_invitation(*, org: Organization, actor, email: str) -> None:
    """An expired, unanswered invitation to the address is revoked so a new one can go out."""
    expired = (
        Invitation.objects.select_for_update()
        .filter(
            organization=org,
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__lte=timezone.now(),
        )
        .first()
    )
    if expired is None:
        return
    expired.revoked_at = timezone.now()
    expired.save(update_fields=["revoked_at"])
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action="member.invitation.revoked",
        target=expired,
        data={"email": email, "reason": "expired; invited again"},
    )


class InvitationInvalid(InvalidInput):
    code = "invitation_invalid"


def invitation_from_token(token: str) -> tuple[Organization, uuid.UUID]:
    """Check the token's signature and age; return (organization, invitation id)."""
    max_age = settings.INVITATION_MAX_AGE.total_seconds()
    try:
        payload = signing.loads(token, salt=INVITE_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise InvitationInvalid(
            "This invitation has expired. Ask an admin to send a new one.",
            code="invitation_expired",
        )
    except signing.BadSignature:
        raise InvitationInvalid(
            "This invitation link is not valid. Check that you copied the whole link."
        )
    org = Organization.objects.filter(pk=payload["org"]).first()
    if org is None:
        raise InvitationInvalid("This invitation link is not valid.")
    return org, uuid.UUID(payload["inv"])


def invitation_accept(*, token: str, user: User) -> Membership:
    """Accept an invitation as `user`: creates the membership once. Not while the organization
    is read-only for billing (WritesPaused, credex/writes.py): the invitation keeps until then."""
    org, invitation_id = invitation_from_token(token)
    check_writes(org)
    with tenant_context(org, user_id=user.pk):
        invitation = Invitation.objects.select_for_update().filter(pk=invitation_id).first()
        if invitation is None or invitation.revoked_at:
            raise InvitationInvalid(
                "This invitation was withdrawn. Ask an admin for a new one.",
                code="invitation_revoked",
            )
        if invitation.accepted_at:
            raise InvitationInvalid(
                "This invitation has already been used.", code="invitation_used"
            )
        if invitation.expires_at <= timezone.now():
            raise InvitationInvalid(
                "This invitation has expired. Ask an admin to send a new one.",
                code="invitation_expired",
            )
        if invitation.email.lower() != user.email.lower():
            raise InvitationInvalid(
                f"This invitation is for {invitation.email}. Sign in with that address to accept.",
                code="invitation_wrong_user",
            )
        if Membership.objects.filter(user=user).exists():
            raise InvitationInvalid(
                "You are already a member of this organization.", code="invitation_used"
            )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        # A removed member invited again gets their membership back (one row per person and
        # organization, so the history that names them stays theirs).
        membership = Membership.all_objects.select_for_update().filter(user=user).first()
        if membership is None:
            membership = Membership.objects.create(
                organization=org, user=user, role=invitation.role
            )
        else:
            removed_at = membership.removed_at
            membership.removed_at, membership.removed_by = None, None
            membership.role = invitation.role
            membership.save(update_fields=["removed_at", "removed_by", "role"])
            audit_record(
                org=org,
                actor=Actor.member(user),
                action="member.restored",
                target=membership,
                data={
                    "email": user.email,
                    "role": invitation.role,
                    "removed_at": removed_at.isoformat(),
                    "invitation": str(invitation.pk),
                },
            )
        audit_record(
            org=org,
            actor=Actor.member(user),
            action="member.invitation.accepted",
            target=membership,
            data={"email": user.email, "role": invitation.role, "invitation": str(invitation.pk)},
        )
    membership.organization = org
    return membership


def invitation_revoke(*, org: Organization, actor, invitation: Invitation) -> Invitation:
    """Withdraw a pending invitation."""
    require(actor, cap.MANAGE_MEMBERS)
    if invitation.status != "pending":
        raise Conflict(f"This invitation is {invitation.status}; only pending ones can be revoked.")
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="member.invitation.revoked",
            target=invitation,
            data={"email": invitation.email},
        )
    return invitation


# --- members -----------------------------------------------------------------------------
def _owners_left_after(org: Organization, membership: Membership) -> int:
    return (
        Membership.objects.select_for_update()
        .filter(organization=org, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .count()
    )


def membership_change_role(
    *, org: Organization, actor, membership: Membership, role: str
) -> Membership:
    """Change a member's role. Admins cannot touch owners; the last owner stays an owner."""
    require(actor, cap.MANAGE_MEMBERS)
    _check_role_grant(actor, role)
    if membership.role == Role.OWNER and actor.role != Role.OWNER:
        raise Forbidden("Only an owner can change another owner's role.")
    if membership.role == role:
        return membership
    with transaction.atomic():
        if membership.role == Role.OWNER and _owners_left_after(org, membership) == 0:
            raise Conflict(
                "The organization must keep at least one owner. Make someone else an owner first."
            )
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="member.role.changed",
            target=membership,
            data={"email": membership.user.email, "from": before, "to": role},
        )
    return membership


REASSIGN_CHOICES = ("unassigned", "me")


def _reassign_target(actor, membership: Membership, reassign_to: str) -> Membership | None:
    """Who takes the open work: the remover for `me`, nobody (None) for `unassigned`."""
    if reassign_to not in REASSIGN_CHOICES:
        raise InvalidInput(
            "Choose who takes the member's open work: me or unassigned.",
            details={"reassign_to": f"one of {', '.join(REASSIGN_CHOICES)}"},
        )
    if reassign_to == "unassigned":
        return None
    if not isinstance(actor, Membership):
        raise InvalidInput(
            "An API key cannot take work over. Send reassign_to=unassigned.",
            details={"reassign_to": "an API key cannot take work over"},
        )
    if actor.pk == membership.pk:
        raise InvalidInput(
            "You are removing yourself: leave your open work unassigned.",
            details={"reassign_to": "you are removing yourself"},
        )
    return actor


def membership_removal_preview(
    *, org: Organization, actor, membership: Membership
) -> list[OpenWork]:
    """What removing `membership` would reassign: the open work it holds, per kind."""
    require(actor, cap.MANAGE_MEMBERS)
    return member_hooks.open_work_for(org=org, removed=membership)


def membership_remove(
    *, org: Organization, actor, membership: Membership, reassign_to: str = "unassigned"
) -> Membership:
    """Remove a member: `removed_at` is set, nothing is deleted. The last owner cannot be
    removed. In one transaction: the member's open work in other apps goes to the remover
    (`reassign_to="me"`) or unassigned through those apps' audited services (the
    `membership_removed` hook), the API keys the member created are revoked, and the removal is
    audited with what was reassigned."""
    require(actor, cap.MANAGE_MEMBERS)
    if membership.role == Role.OWNER and actor.role != Role.OWNER:
        raise Forbidden("Only an owner can remove an owner.")
    target = _reassign_target(actor, membership, reassign_to)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(pk=membership.pk).first()
        if membership is None:
            raise NotFound("Not found.")  # removed meanwhile
        if membership.role == Role.OWNER and _owners_left_after(org, membership) == 0:
            raise Conflict("The organization must keep at least one owner.")
        work = member_hooks.open_work_for(org=org, removed=membership)
        membership.removed_at = timezone.now()
        membership.removed_by = actor if isinstance(actor, Membership) else None
        membership.save(update_fields=["removed_at", "removed_by"])
        member_hooks.reassign_open_work(
            org=org, removed=membership, actor=actor, reassign_to=target
        )
        revoked = _revoke_keys_of(org=org, actor=actor, membership=membership)
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="member.removed",
            target=membership,
            data={
                "email": membership.user.email,
                "role": membership.role,
                "reassigned_to": str(target.pk) if target else None,
                "open_work": {w.kind: w.count for w in work},
                "api_keys_revoked": revoked,
            },
        )
    return membership


def _revoke_keys_of(*, org: Organization, actor, membership: Membership) -> list[str]:
    """The removed member's API keys stop working with them; one audit event per key."""
    prefixes = []
    keys = ApiKey.objects.select_for_update().filter(
        organization=org, created_by=membership, revoked_at__isnull=True
    )
    for key in keys:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="api_key.revoked",
            target=key,
            data={"name": key.name, "prefix": key.prefix, "reason": "creator removed"},
        )
        prefixes.append(key.prefix)
    return prefixes


# --- API keys ----------------------------------------------------------------------------
API_KEY_NAME_MAX = ApiKey._meta.get_field("name").max_length


def api_key_create(
    *, org: Organization, actor, name: str, role: str = Role.COORDINATOR
) -> tuple[ApiKey, str]:
    """Create an API key; returns (key, raw key). The raw key is never stored or shown again."""
    from credex.middleware import hash_key

    require(actor, cap.MANAGE_API_KEYS)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Name the key after what will use it.", details={"name": "required"})
    if len(name) > API_KEY_NAME_MAX:
        # It was cut to the column's length and saved: refuse instead, as for any long name.
        message = f"Keep the key's name to {API_KEY_NAME_MAX} characters."
        raise InvalidInput(message, details={"name": message})
    if role == Role.OWNER or role not in Role.values:
        raise InvalidInput(
            "An API key's role is admin, coordinator or auditor.", details={"role": "invalid"}
        )
    if role == Role.ADMIN and actor.role not in cap.roles_with(cap.MANAGE_API_KEYS):
        raise Forbidden("Only owners and admins can create admin keys.")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32).replace("_", "").replace("-", "")
    with transaction.atomic():
        try:
            key = ApiKey.objects.create(
                organization=org,
                name=name[:100],
                prefix=prefix,
                key_hash=hash_key(secret),
                role=role,
                created_by=actor if isinstance(actor, Membership) else None,
            )
        except IntegrityError:
            raise Conflict("Could not create a unique key; try again.")
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="api_key.created",
            target=key,
            data={"name": key.name, "prefix": prefix, "role": role},
        )
    return key, f"cx_{prefix}_{secret}"


def api_key_revoke(*, org: Organization, actor, key: ApiKey) -> ApiKey:
    """Revoke an API key; it stops working at once."""
    require(actor, cap.MANAGE_API_KEYS)
    if key.revoked_at:
        return key
    with transaction.atomic():
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="api_key.revoked",
            target=key,
            data={"name": key.name, "prefix": key.prefix},
        )
    return key


def get_or_404(queryset, **lookup):
    """One row of a (scoped) queryset, or NotFound. Non-UUID ids are also 'not found'."""
    try:
        obj = queryset.filter(**lookup).first()
    except (ValueError, Exception) as exc:  # malformed UUIDs raise ValidationError
        from django.core.exceptions import ValidationError

        if isinstance(exc, ValidationError | ValueError):
            obj = None
        else:
            raise
    if obj is None:
        raise NotFound("Not found.")
    return obj


def organization_pause_writes(*, org: Organization, reason: str) -> bool:
    """Make `org` read-only (billing's services call this; credex/writes.py enforces it).
    Returns whether it changed. The caller audits why, in its transaction."""
    updated = Organization.objects.filter(pk=org.pk, writes_paused_at__isnull=True).update(
        writes_paused_at=timezone.now(), writes_paused_reason=reason[:200]
    )
    org.refresh_from_db(fields=["writes_paused_at", "writes_paused_reason"])
    return bool(updated)


def organization_resume_writes(*, org: Organization) -> bool:
    """Restore writes at once (a payment went through). Returns whether it changed. The jobs
    that waited (credex.jobs.jobs_resume) and the apps' skipped work (org_hooks.writes_resumed)
    are sent again when the caller's transaction commits."""
    from credex.jobs import jobs_resume

    paused_at = (
        Organization.objects.filter(pk=org.pk).values_list("writes_paused_at", flat=True).first()
    )
    updated = Organization.objects.filter(pk=org.pk, writes_paused_at__isnull=False).update(
        writes_paused_at=None, writes_paused_reason=""
    )
    org.refresh_from_db(fields=["writes_paused_at", "writes_paused_reason"])
    if updated:
        jobs_resume(org=org)
        org_hooks.writes_resumed.run(org=org, paused_at=paused_at)
    return bool(updated)
