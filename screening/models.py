"""Exclusion screening: global reference datasets and per-organization runs, hits, results.

Global (no organization, no RLS; platform staff load them with `manage.py load_exclusions`):
- DatasetVersion: one load of an OIG LEIE or SAM file (full file or LEIE supplement);
- LeieRecord, SamRecord: the rows of each version, with the matching keys computed at load.

Tenant (TenantModel, RLS, same-organization foreign keys):
- ScreeningRun: one screening of an organization (or of one provider);
- ScreeningHit: a match between a provider and a source record, and its review;
- ScreeningResult: the per-provider verification log ("OIG clean as of ...").
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from credex.tenancy import TenantModel


class Source(models.TextChoices):
    LEIE = "leie", "OIG LEIE"
    SAM = "sam", "SAM.gov exclusions"


# The audit log's source code per dataset (DESIGN.md: NPPES, OIG, SAM ...).
AUDIT_SOURCE = {Source.LEIE: "OIG", Source.SAM: "SAM"}
# A list older than this no longer counts as current (OIG publishes monthly): pages warn.
STALE_LIST_DAYS = 45


def list_is_stale(as_of, on=None) -> bool:
    """True when a list as of `as_of` is older than STALE_LIST_DAYS on `on` (default today)."""
    if as_of is None:
        return False
    on = on or timezone.localdate()
    if hasattr(on, "date") and callable(on.date):  # a datetime: its local date
        on = timezone.localtime(on).date() if timezone.is_aware(on) else on.date()
    return (on - as_of).days > STALE_LIST_DAYS


class DatasetKind(models.TextChoices):
    FULL = "full", "Full file"
    EXCLUSIONS = "exclusions", "Supplement: new exclusions"
    REINSTATEMENTS = "reinstatements", "Supplement: reinstatements"


class DatasetVersion(models.Model):
    """One load of a reference file. Exactly one version per source is active at a time.

    A supplement makes a new version too: the active version's rows plus the new exclusions,
    or with the reinstated records marked, so every version is a complete list and the
    switch to it is one flag flip.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.CharField(max_length=10, choices=Source.choices)
    kind = models.CharField(max_length=20, choices=DatasetKind.choices, default=DatasetKind.FULL)
    as_of = models.DateField()
    row_count = models.PositiveIntegerField(default=0)  # records in this version
    file_rows = models.PositiveIntegerField(default=0)  # data rows in the loaded file
    applied = models.PositiveIntegerField(default=0)  # supplements: rows added or reinstated
    sha256 = models.CharField(max_length=64)
    origin = models.CharField(max_length=500)  # path or URL
    filename = models.CharField(max_length=200, blank=True)
    base = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_active = models.BooleanField(default=False)
    rows_purged = models.BooleanField(default=False)
    loaded_at = models.DateTimeField(default=timezone.now)
    load_seconds = models.FloatField(default=0)
    loaded_by = models.CharField(max_length=200, blank=True)
    # The files this version is made of, oldest first: the full file, then each supplement
    # applied on top ([{"filename", "kind", "as_of", "sha256", "file_rows", "applied"}]).
    # A record's `file_index` points into it.
    files = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)  # sentences, shown with the load

    class Meta:
        ordering = ["-loaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source"],
                condition=models.Q(is_active=True),
                name="screening_one_active_version_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.as_of:%Y-%m-%d} ({self.short_id})"

    @property
    def short_id(self) -> str:
        return self.sha256[:12]

    @property
    def is_stale(self) -> bool:
        """Older than STALE_LIST_DAYS today: screening against it does not count as current."""
        return list_is_stale(self.as_of)

    @property
    def list_name(self) -> str:
        """ "OIG" / "SAM", as a warning names the list."""
        return AUDIT_SOURCE[self.source]

    @property
    def audit_source(self) -> str:
        return AUDIT_SOURCE[self.source]


class LeieRecord(models.Model):
    """One row of an LEIE version. Text as published (trimmed); dates parsed (None = none)."""

    id = models.BigAutoField(primary_key=True)
    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="+")
    line = models.PositiveIntegerField()  # in the file version.files[file_index]
    # None: loaded before versions listed their files (the file is not known).
    file_index = models.PositiveSmallIntegerField(null=True, blank=True)
    record_key = models.CharField(max_length=32)  # identity of the exclusion action
    record_hash = models.CharField(max_length=32)  # every published value
    lastname = models.CharField(max_length=100)
    firstname = models.CharField(max_length=100)
    midname = models.CharField(max_length=100)
    busname = models.CharField(max_length=200)
    general = models.CharField(max_length=100)
    specialty = models.CharField(max_length=100)
    upin = models.CharField(max_length=20)
    npi = models.CharField(max_length=10)  # "" when the file says 0000000000
    dob = models.DateField(null=True)
    address = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=10)
    zip = models.CharField(max_length=20)
    excltype = models.CharField(max_length=20)
    excldate = models.DateField(null=True)
    reindate = models.DateField(null=True)  # set: reinstated (no longer excluded)
    waiverdate = models.DateField(null=True)
    wvrstate = models.CharField(max_length=10)
    # Matching keys (screening.normalize), computed once at load.
    norm_first = models.CharField(max_length=100)
    norm_lasts = models.CharField(max_length=200)  # keys joined by "|"
    norm_business = models.CharField(max_length=200)

    class Meta:
        indexes = [models.Index(fields=["version", "record_key"], name="leie_version_key_idx")]

    def __str__(self) -> str:
        return f"LEIE {self.lastname or self.busname}, {self.firstname} (line {self.line})"


class SamRecord(models.Model):
    """One row of a SAM exclusions extract version."""

    id = models.BigAutoField(primary_key=True)
    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="+")
    line = models.PositiveIntegerField()
    record_key = models.CharField(max_length=40)
    record_hash = models.CharField(max_length=32)
    classification = models.CharField(max_length=40)
    name = models.CharField(max_length=300)
    prefix = models.CharField(max_length=20)
    first = models.CharField(max_length=100)
    middle = models.CharField(max_length=100)
    last = models.CharField(max_length=100)
    suffix = models.CharField(max_length=20)
    address_1 = models.CharField(max_length=200)
    address_2 = models.CharField(max_length=200)
    address_3 = models.CharField(max_length=200)
    address_4 = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    state_province = models.CharField(max_length=50)
    country = models.CharField(max_length=10)
    zip_code = models.CharField(max_length=20)
    open_data_flag = models.CharField(max_length=10)
    blank_deprecated = models.CharField(max_length=50)
    unique_entity_id = models.CharField(max_length=20)
    exclusion_program = models.CharField(max_length=50)
    excluding_agency = models.CharField(max_length=50)
    ct_code = models.CharField(max_length=50)
    exclusion_type = models.CharField(max_length=100)
    additional_comments = models.TextField()
    active_date = models.DateField(null=True)
    termination_date = models.DateField(null=True)  # None with indefinite=True: no end
    termination_indefinite = models.BooleanField(default=False)
    record_status = models.CharField(max_length=20)
    cross_reference = models.TextField()
    sam_number = models.CharField(max_length=20)
    cage = models.CharField(max_length=10)
    npi = models.CharField(max_length=10)
    creation_date = models.DateField(null=True)
    # V1 extracts (before the UEI, 2022) identify entities by DUNS; "" in V2 files.
    duns = models.CharField(max_length=20, blank=True, default="")
    norm_first = models.CharField(max_length=100)
    norm_lasts = models.CharField(max_length=200)
    norm_business = models.CharField(max_length=300)

    class Meta:
        indexes = [models.Index(fields=["version", "record_key"], name="sam_version_key_idx")]

    def __str__(self) -> str:
        return f"SAM {self.name or self.last}, {self.first} ({self.sam_number})"


# --- tenant data ----------------------------------------------------------------------------


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Monthly schedule"
    ON_DEMAND = "on_demand", "On demand"
    NEW_HIRE = "new_hire", "New provider"
    RENAME = "rename", "Name, date of birth or NPI changed"
    COMMAND = "command", "Command line"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    REFUSED = "refused", "Refused: another run was in progress"


OPEN_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class ScreeningRun(TenantModel):
    """One screening of an organization's roster (or one provider) against the active lists."""

    trigger = models.CharField(max_length=20, choices=RunTrigger.choices)
    provider = models.ForeignKey(
        "roster.Provider", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    requested_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    leie_version = models.ForeignKey(
        DatasetVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sam_version = models.ForeignKey(
        DatasetVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    providers_total = models.PositiveIntegerField(default=0)
    providers_processed = models.PositiveIntegerField(default=0)
    # {"new": {kind: n}, "new_total", "matches", "providers_with_open_hits", "clean"}
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    # Times the job reconciler re-published this job's lost task (credex/jobs.py).
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One organization-wide run at a time: asking twice answers "already in progress".
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(status__in=["queued", "running"], provider__isnull=True),
                name="screening_one_open_org_run",
            )
        ]
        indexes = [models.Index(fields=["organization", "created_at"], name="screen_run_org_idx")]

    def __str__(self) -> str:
        return f"Screening run {self.created_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_RUN_STATUSES

    @property
    def new_total(self) -> int:
        return int(self.counts.get("new_total", 0))


class HitKind(models.TextChoices):
    NPI = "npi", "Exact NPI"
    NAME_DOB = "name_dob", "Name + date of birth"
    NAME_STATE = "name_state", "Name + state"
    BUSINESS = "business", "Business name"
    POSSIBLE = "possible", "Possible"
    REINSTATEMENT = "reinstatement", "Reinstated / no longer listed"


# Strongest first: when several rules match one record, the hit takes the strongest kind.
KIND_STRENGTH = [
    HitKind.NPI,
    HitKind.NAME_DOB,
    HitKind.BUSINESS,
    HitKind.NAME_STATE,
    HitKind.POSSIBLE,
]


class HitStatus(models.TextChoices):
    NEW = "new", "New"
    CONFIRMED = "confirmed", "Confirmed exclusion"
    CLEARED = "cleared", "Cleared (false positive)"


class ScreeningHit(TenantModel):
    """A provider matched a source record. Unique per record content: a cleared hit is not
    raised again for the same record unless the record changes (its hash changes)."""

    provider = models.ForeignKey("roster.Provider", on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(ScreeningRun, on_delete=models.PROTECT, related_name="hits")
    source = models.CharField(max_length=10, choices=Source.choices)
    dataset_version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="+")
    source_record_key = models.CharField(max_length=40)
    record_hash = models.CharField(max_length=32)
    kind = models.CharField(max_length=20, choices=HitKind.choices)
    score = models.PositiveSmallIntegerField()  # 0-100
    matched_fields = models.JSONField(default=list)  # ["npi", "last_name", ...]
    # {"name_used": "current name" | "former name ...", "last_name_key": ..., "notes": [...]}
    explanation = models.JSONField(default=dict)
    provider_snapshot = models.JSONField(default=dict)  # our values at detection (no DOB)
    record_snapshot = models.JSONField(default=dict)  # the source row, real column names
    status = models.CharField(max_length=20, choices=HitStatus.choices, default=HitStatus.NEW)
    # A reinstatement item points at the confirmed hit whose exclusion ended.
    related_hit = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    detected_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.CharField(max_length=200, blank=True)
    evidence_note = models.TextField(blank=True)
    ended_on = models.DateField(null=True, blank=True)  # confirmed hits: exclusion ended

    class Meta:
        ordering = ["-detected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider", "source", "source_record_key", "record_hash"],
                name="screening_hit_once_per_record_content",
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "detected_at"], name="screen_hit_status_idx"
            ),
            models.Index(fields=["organization", "provider"], name="screen_hit_provider_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} hit ({self.get_status_display()})"

    @property
    def audit_source(self) -> str:
        return AUDIT_SOURCE[self.source]


class ResultOutcome(models.TextChoices):
    CLEAN = "clean", "Clean"
    HIT = "hit", "Hit"


class ScreeningResult(TenantModel):
    """The verification log: one provider checked in one run against each list's version
    ("OIG LEIE clean as of 2026-11-01, version ..."). One row per provider and run, with a
    column group per list, because a full screening writes one for every provider.
    """

    # The composite same-organization foreign keys (migration 0002) enforce these two
    # references; the plain ones would only repeat the check on 100,000 inserted rows.
    run = models.ForeignKey(
        ScreeningRun, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    provider = models.ForeignKey(
        "roster.Provider", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    # Versions are never deleted (PROTECT); the database check is left out on this table too.
    leie_version = models.ForeignKey(
        DatasetVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    leie_outcome = models.CharField(max_length=10, choices=ResultOutcome.choices, blank=True)
    leie_matches = models.PositiveSmallIntegerField(default=0)  # records matched (any review)
    sam_version = models.ForeignKey(
        DatasetVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    sam_outcome = models.CharField(max_length=10, choices=ResultOutcome.choices, blank=True)
    sam_matches = models.PositiveSmallIntegerField(default=0)
    checked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-checked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "provider"], name="screening_result_once_per_run"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "provider", "checked_at"], name="screen_result_prov_idx"
            )
        ]

    def __str__(self) -> str:
        return f"Screening result {self.checked_at:%Y-%m-%d}"

    def for_source(self, source: str) -> tuple[DatasetVersion | None, str, int]:
        """(version, outcome, matches) for one list ("" outcome: the list was not loaded)."""
        if source == Source.LEIE:
            return self.leie_version, self.leie_outcome, self.leie_matches
        return self.sam_version, self.sam_outcome, self.sam_matches
