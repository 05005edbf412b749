"""Committee review: a provider's file made ready for the credentialing committee, and the
committee's decision.

Moved out of the roster app: the table keeps its roster_* name (db_table), so its RLS policy,
same-organization constraints and rows stayed where they were.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from credex.tenancy import TenantModel
from roster.models import Provider

# --- committee ------------------------------------------------------------------------------


class CommitteeDecision(models.TextChoices):
    APPROVED = "approved", "Approved"
    APPROVED_WITH_CONDITIONS = "approved_with_conditions", "Approved with conditions"
    DENIED = "denied", "Denied"
    DEFERRED = "deferred", "Deferred"


class CommitteeReview(TenantModel):
    # Audit events name it as they did before the move (stored data, auditor search).
    audit_target_type = "roster.committeereview"
    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="committee_reviews"
    )
    cycle = models.CharField(
        max_length=20,
        choices=[("initial", "Initial credentialing"), ("recredentialing", "Re-credentialing")],
    )
    ready_at = models.DateTimeField(default=timezone.now)
    ready_marked_by = models.ForeignKey(
        "credex.Membership", null=True, on_delete=models.PROTECT, related_name="+"
    )
    meeting_date = models.DateField(null=True, blank=True)
    decision = models.CharField(max_length=30, choices=CommitteeDecision.choices, blank=True)
    decision_date = models.DateField(null=True, blank=True)
    conditions = models.TextField(blank=True)
    minutes = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notified_at = models.DateTimeField(null=True, blank=True)  # NCQA: within 30 days

    class Meta:
        db_table = "roster_committeereview"  # kept from the roster app: RLS, constraints, data
        ordering = ["-ready_at"]
