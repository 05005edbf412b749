"""Who is a member, and in what standing: reads of the global member directory.

Every eligibility check asks these (the RLS policies ask the same table, through
`exchange_current_org_is_member()`)."""

from __future__ import annotations

from exchange.models import MemberDirectory, MembershipStatus


def directory_entry(org_id) -> MemberDirectory | None:
    """The organization's public member row (None if it never applied)."""
    return MemberDirectory.objects.filter(member_id=getattr(org_id, "pk", org_id)).first()


def member_is_approved(org_id) -> bool:
    """An approved member (not pending, rejected or suspended) may use the exchange."""
    entry = directory_entry(org_id)
    return entry is not None and entry.status == MembershipStatus.APPROVED


def member_in_good_standing(org_id) -> bool:
    """Approved and holding a current accreditation: may sell."""
    entry = directory_entry(org_id)
    return entry is not None and entry.status == MembershipStatus.APPROVED and entry.good_standing
