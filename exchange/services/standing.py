"""Good standing: a current accreditation (accredited or provisional, not expired).

A member whose accreditation lapsed has every live listing paused (reason "standing") and is
told by e-mail; a renewal resumes them. The operator's suspension pauses them with reason
"suspended" and reinstatement resumes those. Resuming touches only the listings paused for
that reason and not past their maximum age, so a seller's own pause or another rule's stays.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.services import Actor, audit_record
from credex.actors import audit_actor
from exchange.models import ExchangeMembership, Listing, ListingStatus, MembershipStatus

SYSTEM = Actor.system("exchange.standing")


def _actor(actor) -> Actor:
    return actor if isinstance(actor, Actor) else audit_actor(actor)


def listings_pause_for(*, org, reason: str, actor) -> int:
    """Pause every live listing of the organization with `reason`; one audit event with the
    count. Returns how many were paused."""
    now = timezone.now()
    with transaction.atomic():
        count = Listing.objects.filter(organization=org, status=ListingStatus.LIVE).update(
            status=ListingStatus.PAUSED, status_reason=reason, status_note="", updated_at=now
        )
        audit_record(
            action="exchange.listings.paused",
            actor=_actor(actor),
            org=org,
            target_type="exchange.listing",
            data={"reason": reason, "count": count},
        )
    return count


def listings_resume_for(*, org, reason: str, actor) -> int:
    """Resume the listings paused with `reason` that have not passed their maximum age; one
    audit event with the count. Returns how many were resumed."""
    now = timezone.now()
    with transaction.atomic():
        count = Listing.objects.filter(
            organization=org,
            status=ListingStatus.PAUSED,
            status_reason=reason,
            expires_at__gt=now,
        ).update(status=ListingStatus.LIVE, status_reason="", status_note="", updated_at=now)
        audit_record(
            action="exchange.listings.resumed",
            actor=_actor(actor),
            org=org,
            target_type="exchange.listing",
            data={"reason": reason, "count": count},
        )
    return count


def standing_refresh(
    *, org, actor=None, membership: ExchangeMembership | None = None, notify: bool = True
) -> dict:
    """Bring an approved member's listings and directory row in line with its standing:
    lapsed -> pause ("standing"), notify, mark the directory; renewed -> resume."""
    from exchange.selectors.membership import accreditation_current
    from exchange.services.membership import directory_sync, member_notify

    actor = actor if actor is not None else SYSTEM
    result = {"good_standing": False, "paused": 0, "resumed": 0}
    with transaction.atomic():
        membership = membership or (
            ExchangeMembership.objects.select_for_update().filter(organization=org).first()
        )
        if membership is None:
            return result
        if membership.status != MembershipStatus.APPROVED:
            directory_sync(membership)
            return result
        current = accreditation_current(membership)
        result["good_standing"] = current is not None
        lapsed_now = current is None and membership.standing_paused_at is None
        if current is None:
            live = Listing.objects.filter(organization=org, status=ListingStatus.LIVE).exists()
            if lapsed_now or live:
                result["paused"] = listings_pause_for(org=org, reason="standing", actor=actor)
            if lapsed_now:
                membership.standing_paused_at = timezone.now()
                membership.save(update_fields=["standing_paused_at"])
                audit_record(
                    action="exchange.standing.lapsed",
                    actor=_actor(actor),
                    org=org,
                    target=membership,
                    data={"listings_paused": result["paused"]},
                )
                if notify:
                    member_notify(
                        org=org,
                        membership=membership,
                        subject=f"{membership.display_name}: exchange listings paused "
                        "(accreditation lapsed)",
                        template="email/exchange_standing_lapsed.txt",
                        context={"paused": result["paused"]},
                    )
        elif membership.standing_paused_at is not None:
            result["resumed"] = listings_resume_for(org=org, reason="standing", actor=actor)
            membership.standing_paused_at = None
            membership.save(update_fields=["standing_paused_at"])
            audit_record(
                action="exchange.standing.restored",
                actor=_actor(actor),
                org=org,
                target=membership,
                data={"listings_resumed": result["resumed"], "accreditation": str(current.pk)},
            )
        directory_sync(membership)
    return result
