"""Primary-source verification: the PSV log, the queue of requests, re-verification packets,
document extraction suggestions, credential packages and their payer shares.

Every table is tenant data (TenantModel: UUID id, non-null organization, scoped manager,
RLS, same-organization foreign keys). Verification and VerificationEvidence are immutable
once saved (database triggers refuse UPDATE and DELETE): a correction is a new record that
supersedes the old one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from credex.tenancy import TenantModel

# --- the PSV log ------------------------------------------------------------------------


class VerificationSource(models.TextChoices):
    STATE_BOARD = "state_board", "State licensing board"
    DEA = "dea", "DEA (Diversion Control)"
    BOARD = "board", "Specialty board (ABMS / AOA)"
    NPPES = "nppes", "NPPES NPI Registry"
    OIG = "oig", "OIG LEIE"
    SAM = "sam", "SAM.gov exclusions"
    EDUCATION = "education", "Education institution"
    EMPLOYER = "employer", "Past employer"
    FACILITY = "facility", "Hospital / facility"
    NPDB = "npdb", "NPDB"
    MALPRACTICE_CARRIER = "malpractice_carrier", "Malpractice carrier"


class VerificationMethod(models.TextChoices):
    API = "api", "API"
    WEB = "web", "Web lookup"
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"
    FAX = "fax", "Fax"
    MAIL = "mail", "Mail"
    EXCHANGE = "exchange", "Purchased on the exchange"


class VerificationResult(models.TextChoices):
    VERIFIED = "verified", "Verified"
    DISCREPANCY = "discrepancy", "Discrepancy"
    UNABLE = "unable", "Unable to verify"


class VerifierKind(models.TextChoices):
    MEMBER = "member", "Member"
    API_KEY = "api_key", "API key"
    SYSTEM = "system", "System check"
    EXCHANGE = "exchange", "Exchange purchase"


class Verification(TenantModel):
    """One primary-source verification of a credential (or of a provider, for NPPES/OIG/SAM).

    Immutable: the database refuses UPDATE and DELETE. `supersedes` points at the record a
    correction replaces; a record is current when nothing supersedes it.
    """

    provider = models.ForeignKey(
        "roster.Provider", on_delete=models.PROTECT, related_name="verifications"
    )
    credential = models.ForeignKey(
        "roster.Credential",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="verifications",
    )
    source = models.CharField(max_length=30, choices=VerificationSource.choices)
    source_state = models.CharField(max_length=2, blank=True)  # state boards: which state
    source_name = models.CharField(max_length=200, blank=True)  # "Texas Medical Board"
    method = models.CharField(max_length=20, choices=VerificationMethod.choices)
    result = models.CharField(max_length=20, choices=VerificationResult.choices)
    verifier_kind = models.CharField(max_length=20, choices=VerifierKind.choices)
    verifier_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verifier_label = models.CharField(max_length=254)  # e-mail, API key name or job name
    verified_at = models.DateTimeField()
    details = models.TextField(blank=True)
    reference = models.CharField(max_length=300, blank=True)  # confirmation no., URL, run id
    # Structured facts seen at the source: {"status": "active", "expiry_date": "2027-01-31",
    # "dataset_version": "...", "matches": 0, ...}
    data = models.JSONField(default=dict, blank=True)
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    correction_reason = models.TextField(blank=True)
    request = models.ForeignKey(
        "verifications.VerificationRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="verifications",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-verified_at"]
        indexes = [
            models.Index(
                fields=["organization", "provider", "verified_at"], name="verif_org_prov_idx"
            ),
            models.Index(
                fields=["organization", "credential", "verified_at"], name="verif_org_cred_idx"
            ),
            models.Index(
                fields=["organization", "source", "verified_at"], name="verif_org_source_idx"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_source_display()} {self.get_result_display()} {self.verified_at:%Y-%m-%d}"
        )

    @property
    def list_as_of(self):
        """The date of the exclusion list an OIG/SAM check was made against (None otherwise)."""
        from datetime import date

        if self.source not in (VerificationSource.OIG, VerificationSource.SAM):
            return None
        try:
            return date.fromisoformat((self.data or {}).get("as_of") or "")
        except (TypeError, ValueError):
            return None

    @property
    def list_stale(self) -> bool:
        """The OIG/SAM list was older than the screening app's limit when this check used it."""
        from screening.models import list_is_stale

        return list_is_stale(self.list_as_of, self.verified_at)


def evidence_path(instance, filename: str) -> str:
    # Never the uploaded name: organization / verification / random id.
    return f"evidence/{instance.organization_id}/{instance.verification_id}/{instance.id}"


class VerificationEvidence(TenantModel):
    """A screenshot or PDF of the source page, saved with its verification (immutable too)."""

    verification = models.ForeignKey(
        Verification, on_delete=models.PROTECT, related_name="evidence"
    )
    file = models.FileField(upload_to=evidence_path, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]


# --- the queue: requests to a source, with follow-up -------------------------------------


class RequestStatus(models.TextChoices):
    OPEN = "open", "To verify"
    REQUESTED = "requested", "Requested, awaiting reply"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_REQUEST_STATUSES = (RequestStatus.OPEN, RequestStatus.REQUESTED)


class VerificationRequest(TenantModel):
    """A verification to obtain: opened by a packet or a coordinator, and for boards that
    answer only by e-mail, fax or mail, the request sent and its follow-ups."""

    provider = models.ForeignKey(
        "roster.Provider", on_delete=models.CASCADE, related_name="verification_requests"
    )
    credential = models.ForeignKey(
        "roster.Credential",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="verification_requests",
    )
    source = models.CharField(max_length=30, choices=VerificationSource.choices)
    source_state = models.CharField(max_length=2, blank=True)
    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    method = models.CharField(max_length=20, choices=VerificationMethod.choices, blank=True)
    sent_to = models.CharField(max_length=254, blank=True)  # board e-mail address or fax no.
    requested_at = models.DateTimeField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)  # reply expected by / next follow-up
    follow_up_count = models.PositiveSmallIntegerField(default=0)
    last_follow_up_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    assigned_to = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    packet = models.ForeignKey(
        "verifications.ReverificationPacket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests",
    )
    created_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "created_at"]
        constraints = [
            # One open request per credential (or provider-level check) and source.
            models.UniqueConstraint(
                fields=["organization", "provider", "credential", "source"],
                condition=models.Q(status__in=["open", "requested"]),
                nulls_distinct=False,
                name="verif_request_one_open",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "status", "due_date"], name="verif_req_due_idx")
        ]


# --- re-verification packets ------------------------------------------------------------


class PacketStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETE = "complete", "Complete"
    CANCELLED = "cancelled", "Cancelled"


class ReverificationPacket(TenantModel):
    """One click per provider: re-run NPPES/OIG/SAM, open queue items, request documents."""

    provider = models.ForeignKey(
        "roster.Provider", on_delete=models.CASCADE, related_name="reverification_packets"
    )
    status = models.CharField(
        max_length=20, choices=PacketStatus.choices, default=PacketStatus.IN_PROGRESS
    )
    started_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    upload_link = models.ForeignKey(
        "roster.UploadLink", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bulk_key = models.CharField(max_length=64, blank=True)  # groups a bulk launch

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider"],
                condition=models.Q(status="in_progress"),
                name="packet_one_in_progress",
            )
        ]


class PacketStepKind(models.TextChoices):
    NPPES = "nppes", "NPPES check"
    OIG = "oig", "OIG LEIE screening"
    SAM = "sam", "SAM screening"
    VERIFICATION = "verification", "Primary-source verification"
    DOCUMENTS = "documents", "Updated documents from the provider"


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"  # only when the outcome was "verified"
    # The step's record came back as a discrepancy or "unable to verify": the reason is in
    # detail["attention"]; the packet cannot complete until a verified record replaces it.
    NEEDS_ATTENTION = "needs_attention", "Needs attention"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class PacketStep(TenantModel):
    packet = models.ForeignKey(ReverificationPacket, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=20, choices=PacketStepKind.choices)
    label = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=StepStatus.choices, default=StepStatus.PENDING)
    request = models.ForeignKey(
        VerificationRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verification = models.ForeignKey(
        Verification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["packet", "kind", "label"]


# --- document extraction ----------------------------------------------------------------


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    APPROVED = "approved", "Approved"
    CORRECTED = "corrected", "Approved with corrections"
    REJECTED = "rejected", "Rejected"
    EMPTY = "empty", "Nothing found"
    FAILED = "failed", "Extraction failed"


class ExtractionSuggestion(TenantModel):
    """What an extractor read from an uploaded document; applied only on a member's approval."""

    document = models.ForeignKey(
        "roster.Document", on_delete=models.CASCADE, related_name="extractions"
    )
    credential = models.ForeignKey(
        "roster.Credential",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="extractions",
    )
    extractor = models.CharField(max_length=60)  # "text-layer:1", "tesseract:5.3.0" ...
    engine = models.CharField(max_length=10)  # "text" or "ocr" or "none"
    status = models.CharField(
        max_length=20, choices=SuggestionStatus.choices, default=SuggestionStatus.PENDING
    )
    # {"expiry_date": {"value": "2027-01-31", "confidence": 0.9, "snippet": "Expires: ..."}}
    fields = models.JSONField(default=dict, blank=True)
    problems = models.JSONField(default=list, blank=True)  # validation findings
    applied = models.JSONField(default=dict, blank=True)  # what the approval wrote
    message = models.TextField(blank=True)  # e.g. "OCR is not available on this server"
    decided_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "status"], name="extraction_org_status_idx")
        ]
        constraints = [
            # A task retry or a second worker never makes a second suggestion.
            models.UniqueConstraint(
                fields=["organization", "document", "extractor"],
                name="extraction_one_per_extractor",
            )
        ]


# --- credential packages and payer shares ------------------------------------------------


class PackageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


def package_path(instance, filename: str) -> str:
    return f"packages/{instance.organization_id}/{instance.provider_id}/{instance.id}.pdf"


class CredentialPackage(TenantModel):
    provider = models.ForeignKey(
        "roster.Provider", on_delete=models.CASCADE, related_name="credential_packages"
    )
    status = models.CharField(
        max_length=20, choices=PackageStatus.choices, default=PackageStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(upload_to=package_path, max_length=300, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    page_count = models.PositiveIntegerField(default=0)
    sections = models.JSONField(default=list, blank=True)  # bookmark titles, in order
    missing = models.JSONField(default=list, blank=True)  # required elements not on file
    error = models.TextField(blank=True)
    # Times the job reconciler re-published this job's lost task (credex/jobs.py).
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]


class PackageShare(TenantModel):
    """A signed, expiring link a payer contact (no account) uses to download one package."""

    package = models.ForeignKey(CredentialPackage, on_delete=models.CASCADE, related_name="shares")
    # The payer contact lives in the enrollment app (above this one): a lazy reference only.
    contact = models.ForeignKey(
        "enrollment.PayerContact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="shares",
    )
    email = models.EmailField()
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    view_count = models.PositiveIntegerField(default=0)
    download_count = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
