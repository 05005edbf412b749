"""Payers, payer contacts, payer enrollment applications and contracts.

Moved out of the roster app (payer contacts out of verifications): the tables keep their names
(db_table: roster_*, verifications_payercontact), so their RLS policies, same-organization
constraints and rows stayed where they were.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from credex.tenancy import TenantModel
from roster.models import Provider

# --- payers, enrollment, contracting ------------------------------------------------------


class Payer(TenantModel):
    # Audit events name it as they did before the move (stored data, auditor search).
    audit_target_type = "roster.payer"
    name = models.CharField(max_length=200)
    payer_id = models.CharField("payer ID", max_length=40, blank=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=30, blank=True)
    portal_url = models.URLField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "roster_payer"  # kept from the roster app: RLS, constraints, data
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="payer_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class EnrollmentStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    IN_PREPARATION = "in_preparation", "In preparation"
    SUBMITTED = "submitted", "Submitted"
    IN_FOLLOW_UP = "in_follow_up", "In follow-up"
    RESUBMITTED = "resubmitted", "Resubmitted"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Enrollment(TenantModel):
    # Audit events name it as they did before the move (stored data, auditor search).
    audit_target_type = "roster.enrollment"
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="enrollments")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(
        max_length=20, choices=EnrollmentStatus.choices, default=EnrollmentStatus.REQUESTED
    )
    requested_at = models.DateTimeField(default=timezone.now)
    submitted_on = models.DateField(null=True, blank=True)
    next_follow_up = models.DateField(null=True, blank=True)
    effective_date = models.DateField(null=True, blank=True)
    reference_number = models.CharField(max_length=60, blank=True)
    resubmissions = models.PositiveSmallIntegerField(default=0)
    notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "roster_enrollment"  # kept from the roster app: RLS, constraints, data
        ordering = ["-requested_at"]
        indexes = [
            models.Index(
                fields=["organization", "status", "next_follow_up"],
                name="enrollment_org_follow_idx",
            ),
        ]


class PayerContract(TenantModel):
    """Contracting after approval: the terms with one payer."""

    # Audit events name it as they did before the move (stored data, auditor search).
    audit_target_type = "roster.payercontract"

    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="contracts")
    effective_date = models.DateField()
    renewal_date = models.DateField(null=True, blank=True)
    fee_schedule_ref = models.CharField("fee schedule reference", max_length=200, blank=True)
    scope_of_services = models.TextField(blank=True)
    terms_notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "roster_payercontract"  # kept from the roster app: RLS, constraints, data
        ordering = ["renewal_date"]


class PayerContact(TenantModel):
    """A person at a payer; credential packages are shared with them (verifications'
    PackageShare.contact points here lazily).

    Moved from the verifications app: the table keeps its name (db_table), so its RLS policy,
    same-organization constraints and rows stayed where they were."""

    # Audit events name it as they did before the move (stored data, auditor search).
    audit_target_type = "verifications.payercontact"
    payer = models.ForeignKey(Payer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField()
    title = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "verifications_payercontact"  # kept from the verifications app
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "payer", "email"], name="payer_contact_email_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"
