"""NPPES registry checks of the roster: the last check per provider, mismatches, refresh runs.

All three are tenant tables (TenantModel, RLS, same-organization foreign keys). There is no
global cache of NPPES answers on purpose: a cache keyed by NPI shared by every tenant would
reveal which clinicians some organization has on its roster (the union of all rosters), so
the last answer is kept on the tenant's own check row instead.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import models
from django.utils import timezone

from credex.tenancy import TenantModel


class CheckOutcome(models.TextChoices):
    MATCH = "match", "Matches the roster"
    MISMATCH = "mismatch", "Differences found"
    DEACTIVATED = "deactivated", "NPI deactivated"
    NOT_FOUND = "not_found", "Not in the registry"
    ERROR = "error", "Error"


# Outcomes that tell nothing about the provider: retried next night, never erase data.
FAILED_OUTCOMES = (CheckOutcome.NOT_FOUND, CheckOutcome.ERROR)


class NppesCheck(TenantModel):
    """The latest NPPES check of one provider (history is in the audit log, one event a call)."""

    provider = models.OneToOneField(
        "roster.Provider", on_delete=models.CASCADE, related_name="nppes_check"
    )
    npi = models.CharField(max_length=10)
    checked_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=20, choices=CheckOutcome.choices)
    # {"kind": api|http|timeout|network|malformed, "message", "errors": [{number, description,
    # field}]}; empty when the check succeeded.
    error_detail = models.JSONField(default=dict, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)  # HTTP attempts of this check
    consecutive_failures = models.PositiveIntegerField(default=0)  # nights in a row
    next_retry_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # The last successful answer, normalized (screening.nppes.parse.NppesRecord.as_json).
    record = models.JSONField(default=dict, blank=True)
    record_fetched_at = models.DateTimeField(null=True, blank=True)
    # Organizations (NPI-2): the authorized official as last acknowledged (the first one NPPES
    # named, or the one a coordinator accepted). NPPES naming someone else is a mismatch until
    # accepted (screening.nppes.compare).
    authorized_official_known = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-checked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider"], name="nppes_check_one_per_provider"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "outcome"], name="nppes_check_org_outcome_idx")
        ]

    @property
    def failed(self) -> bool:
        return self.outcome in FAILED_OUTCOMES


class MismatchField(models.TextChoices):
    NAME = "name", "Name"
    CREDENTIAL_TEXT = "credential_text", "Credential"
    PRIMARY_TAXONOMY = "primary_taxonomy", "Primary taxonomy"
    SECONDARY_TAXONOMIES = "secondary_taxonomies", "Secondary taxonomies"
    PRACTICE_ADDRESS = "practice_address", "Practice location"
    LICENSES = "licenses", "Licenses (self-reported)"
    STATUS = "status", "NPI status"
    AUTHORIZED_OFFICIAL = "authorized_official", "Authorized official"


class Severity(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


class MismatchStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted (roster updated)"
    DISMISSED = "dismissed", "Dismissed"
    # Closed by a refresh: NPPES and the roster agree again (or NPPES moved to another value,
    # which is a new mismatch of its own).
    RESOLVED = "resolved", "Resolved"


class NppesMismatch(TenantModel):
    """One difference between the roster and NPPES for one field of one provider.

    Identity is (organization, provider, field, nppes_value_hash): a dismissal holds for that
    NPPES value and ends when NPPES changes the field again (a new hash, a new row).
    """

    provider = models.ForeignKey(
        "roster.Provider", on_delete=models.CASCADE, related_name="nppes_mismatches"
    )
    field = models.CharField(max_length=30, choices=MismatchField.choices)
    our_value = models.JSONField(null=True, blank=True)
    nppes_value = models.JSONField(null=True, blank=True)
    nppes_value_hash = models.CharField(max_length=64)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    status = models.CharField(
        max_length=20, choices=MismatchStatus.choices, default=MismatchStatus.OPEN
    )
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by_label = models.CharField(max_length=254, blank=True)  # e-mail or API key name
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-first_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider", "field", "nppes_value_hash"],
                name="nppes_mismatch_identity",
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "severity"], name="nppes_mm_org_status_idx"
            ),
            models.Index(fields=["organization", "provider"], name="nppes_mm_org_provider_idx"),
        ]


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped (another refresh was running)"
    FAILED = "failed", "Failed"


class NppesRun(TenantModel):
    """One refresh of an organization (or of one provider): who asked, counts, duration.

    Its id is also the Celery task id, so the progress bar polls the task's live state.
    """

    provider = models.ForeignKey(
        "roster.Provider", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    requested_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    trigger = models.CharField(max_length=20, default="manual")  # manual / nightly / command
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # {"providers", "checked", "match", "mismatch", "deactivated", "not_found", "error",
    #  "mismatches_opened", "mismatches_resolved", "requests", "seconds"}
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "created_at"], name="nppes_run_org_idx")]
        constraints = [
            # One waiting request per organization (and per provider): a second click on
            # "Refresh now" joins the queued run instead of queueing another.
            models.UniqueConstraint(
                fields=["organization", "provider"],
                condition=models.Q(status="queued"),
                nulls_distinct=False,
                name="nppes_run_one_queued",
            )
        ]

    @property
    def tally(self) -> defaultdict:
        """The counts with every number present: 0 for a key an older or failed run lacks."""
        return defaultdict(int, self.counts if isinstance(self.counts, dict) else {})
