"""What committee answers on the hook points of the apps below it (registered in apps.py)."""

from __future__ import annotations

from committee.models import CommitteeReview


def package_committee_review(*, org, provider) -> CommitteeReview | None:
    """verifications.hooks.package_committee_review: the review a credential package shows,
    the latest decided one, else the latest (read only)."""
    reviews = CommitteeReview.objects.filter(organization=org, provider=provider)
    return (
        reviews.exclude(decision="").order_by("-decision_date", "-ready_at").first()
        or reviews.first()
    )
