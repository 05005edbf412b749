"""The roster: providers (clinicians), their credentials, documents, the expiry inbox and CSV
import jobs. (Payers, enrollment and contracting live in enrollment/, committee review in
committee/; their tables kept the roster_* names.)

Every table here is tenant data (TenantModel: UUID id, non-null organization, scoped manager,
RLS) except TaxonomyCode, the global NUCC reference set.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from credex.tenancy import TenantModel

# --- reference data -----------------------------------------------------------------------


class TaxonomyCode(models.Model):
    """NUCC Health Care Provider Taxonomy code set (global reference data, v25.1 shipped)."""

    code = models.CharField(max_length=10, primary_key=True)
    grouping = models.CharField(max_length=200)
    classification = models.CharField(max_length=200)
    specialization = models.CharField(max_length=200, blank=True)
    definition = models.TextField(blank=True)
    display_name = models.CharField(max_length=300, blank=True)
    section = models.CharField(max_length=40, blank=True)
    version = models.CharField(max_length=10, default="25.1")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.display_name or self.classification}"


# Built-in provider types; an organization adds its own as CustomProviderType rows.
PROVIDER_TYPES = {
    "MD": "Physician (MD)",
    "DO": "Physician (DO)",
    "NP": "Nurse practitioner",
    "PA": "Physician assistant",
    "CRNA": "Certified registered nurse anesthetist",
    "CNM": "Certified nurse midwife",
    "DDS": "Dentist (DDS)",
    "DMD": "Dentist (DMD)",
    "DPM": "Podiatrist",
    "DC": "Chiropractor",
    "OD": "Optometrist",
    "PHD": "Psychologist (PhD/PsyD)",
    "LCSW": "Licensed clinical social worker",
    "LPC": "Licensed professional counselor",
    "LMFT": "Licensed marriage and family therapist",
    "PT": "Physical therapist",
    "OT": "Occupational therapist",
    "SLP": "Speech-language pathologist",
    "RD": "Registered dietitian",
}


class CustomProviderType(TenantModel):
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="custom_type_code_uniq")
        ]


# --- providers ------------------------------------------------------------------------------


class ProviderStatus(models.TextChoices):
    APPLICANT = "applicant", "Applicant"
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    TERMINATED = "terminated", "Terminated"


class Provider(TenantModel):
    npi = models.CharField("NPI", max_length=10, blank=True)
    first_name = models.CharField(max_length=100)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100)
    suffix = models.CharField(max_length=20, blank=True)
    former_names = models.JSONField(default=list, blank=True)  # ["Jane Smith", ...]
    # Organizational providers (NPI-2: group practices, suppliers): screened by business
    # name against LEIE BUSNAME and SAM Name, with their former names.
    legal_name = models.CharField("legal business name", max_length=300, blank=True)
    dba_name = models.CharField("doing business as (DBA)", max_length=300, blank=True)
    provider_type = models.CharField(max_length=20)
    primary_taxonomy = models.ForeignKey(
        TaxonomyCode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    taxonomy_codes = ArrayField(models.CharField(max_length=10), default=list, blank=True)
    practice_states = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    # Protected fields: encrypted at rest (roster.crypto); only the SSN's last four are clear.
    dob_encrypted = models.TextField(blank=True)
    ssn_encrypted = models.TextField(blank=True)
    ssn_last4 = models.CharField(max_length=4, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    hire_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=ProviderStatus.choices, default=ProviderStatus.APPLICANT
    )
    coordinator = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    initial_credentialing_date = models.DateField(null=True, blank=True)
    committee_decision_date = models.DateField(null=True, blank=True)
    recredentialing_due_date = models.DateField(null=True, blank=True)
    caqh_id = models.CharField("CAQH ProView ID", max_length=20, blank=True)
    caqh_last_attested = models.DateField(null=True, blank=True)
    # Set by screening when an exclusion is confirmed (blocks exchange sales, flags the file).
    excluded = models.BooleanField(default=False)
    excluded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "npi"],
                condition=~models.Q(npi=""),
                name="provider_npi_unique_per_org",
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "last_name", "first_name"], name="provider_org_name_idx"
            ),
            models.Index(fields=["organization", "status"], name="provider_org_status_idx"),
            models.Index(
                fields=["organization", "recredentialing_due_date"], name="provider_org_recred_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        parts = [self.first_name, self.middle_name, self.last_name]
        name = " ".join(p for p in parts if p)
        if not name:  # an organization named only by its business name
            return self.dba_name or self.legal_name
        return f"{name}, {self.suffix}" if self.suffix else name

    @property
    def is_organization(self) -> bool:
        return bool(self.legal_name or self.dba_name)

    @property
    def sort_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


# --- credentials ----------------------------------------------------------------------------


class CredentialKind(models.TextChoices):
    STATE_LICENSE = "state_license", "State license"
    DEA = "dea", "DEA registration"
    CDS = "cds", "State CDS registration"
    BOARD_CERT = "board_cert", "Board certification"
    MALPRACTICE = "malpractice", "Malpractice insurance"
    EDUCATION = "education", "Education"
    TRAINING = "training", "Residency / fellowship"
    WORK_HISTORY = "work_history", "Work history"
    PRIVILEGES = "privileges", "Hospital privileges"
    LIFE_SUPPORT = "life_support", "Life-support certification"


# Kinds whose expiry matters for the inbox (education and work history do not expire).
EXPIRING_KINDS = (
    CredentialKind.STATE_LICENSE,
    CredentialKind.DEA,
    CredentialKind.CDS,
    CredentialKind.BOARD_CERT,
    CredentialKind.MALPRACTICE,
    CredentialKind.PRIVILEGES,
    CredentialKind.LIFE_SUPPORT,
)


class CredentialStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PENDING = "pending", "Pending"
    EXPIRED = "expired", "Expired"
    INACTIVE = "inactive", "Inactive"
    REVOKED = "revoked", "Revoked / restricted"


class Credential(TenantModel):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="credentials")
    kind = models.CharField(max_length=20, choices=CredentialKind.choices)
    number = models.CharField(max_length=60, blank=True)
    issuer = models.CharField("issuing authority", max_length=200, blank=True)
    state = models.CharField(max_length=2, blank=True)
    issue_date = models.DateField(null=True, blank=True)
    expiry_date = models.DateField(null=True, blank=True)
    # Education, training, work history: the period (start/end) rather than issue/expiry.
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=CredentialStatus.choices, default=CredentialStatus.ACTIVE
    )
    # Kind-specific details: malpractice {"carrier", "policy_number", "per_claim_cents",
    # "aggregate_cents"}, board_cert {"board", "specialty"}, education {"institution",
    # "degree"}, work_history {"employer", "position"}, privileges {"facility"} ...
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "expiry_date"]
        indexes = [
            models.Index(fields=["organization", "expiry_date"], name="credential_org_expiry_idx"),
            models.Index(
                fields=["organization", "provider", "kind"], name="credential_org_prov_kind_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expiry_date__isnull=True)
                | models.Q(issue_date__isnull=True)
                | models.Q(expiry_date__gte=models.F("issue_date")),
                name="credential_expiry_after_issue",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}".strip()


class CredentialRequirement(TenantModel):
    """Per provider type: which credential kinds (and their documents) a file must hold."""

    provider_type = models.CharField(max_length=20)
    kind = models.CharField(max_length=20, choices=CredentialKind.choices)
    document_required = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider_type", "kind"], name="requirement_unique"
            )
        ]


# --- documents and provider upload links ----------------------------------------------------


class DocumentKind(models.TextChoices):
    LICENSE = "license", "License"
    DEA = "dea", "DEA registration"
    CDS = "cds", "CDS registration"
    BOARD_CERT = "board_cert", "Board certificate"
    MALPRACTICE = "malpractice", "Malpractice declarations page"
    CV = "cv", "Curriculum vitae"
    DIPLOMA = "diploma", "Diploma / training certificate"
    ATTESTATION = "attestation", "Attestation / release"
    LIFE_SUPPORT = "life_support", "Life-support card"
    OTHER = "other", "Other"


class DocumentStatus(models.TextChoices):
    PENDING_REVIEW = "pending_review", "Waiting for review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


def document_path(instance, filename: str) -> str:
    # Never the uploaded name: organization / provider / random id.
    return f"documents/{instance.organization_id}/{instance.provider_id}/{instance.id}"


class UploadLink(TenantModel):
    """A signed, expiring link a provider (no account) uses to upload requested documents."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="upload_links")
    requested_kinds = ArrayField(models.CharField(max_length=20), default=list)
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        "credex.Membership", null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class Document(TenantModel):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="documents")
    credential = models.ForeignKey(
        Credential, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    file = models.FileField(upload_to=document_path, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)  # sniffed from the bytes
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(
        max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.PENDING_REVIEW
    )
    uploaded_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    upload_link = models.ForeignKey(
        UploadLink, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    reviewed_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="document_org_created_idx"),
            models.Index(fields=["organization", "status"], name="document_org_status_idx"),
        ]


# --- expiry inbox ---------------------------------------------------------------------------


class InboxKind(models.TextChoices):
    CREDENTIAL_EXPIRY = "credential_expiry", "Credential expiring"
    RECREDENTIALING = "recredentialing", "Re-credentialing due"
    CAQH = "caqh", "CAQH re-attestation due"
    CONTRACT_RENEWAL = "contract_renewal", "Payer contract renewal"
    ENROLLMENT_FOLLOW_UP = "enrollment_follow_up", "Enrollment follow-up"
    # A document a roster import left out, requested from the provider (key names its kind).
    DOCUMENT_REQUESTED = "document_requested", "Document requested"
    # From roster.hooks.inbox_items_due (the exchange answers it): a release about to expire.
    RELEASE_EXPIRY = "release_expiry", "Clinician release expiring"


class InboxStatus(models.TextChoices):
    OPEN = "open", "Open"
    SNOOZED = "snoozed", "Snoozed"
    DISMISSED = "dismissed", "Dismissed"
    RESOLVED = "resolved", "Resolved"


class InboxItem(TenantModel):
    """One thing due, at one threshold. `key` is unique per organization: idempotency."""

    kind = models.CharField(max_length=30, choices=InboxKind.choices)
    key = models.CharField(max_length=200)  # e.g. "credential_expiry:<credential id>:<due>:30"
    threshold_days = models.IntegerField()  # 90/60/30/0 (0 = expired / overdue)
    due_date = models.DateField()
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.CASCADE, related_name="inbox_items"
    )
    credential = models.ForeignKey(
        Credential, null=True, blank=True, on_delete=models.CASCADE, related_name="inbox_items"
    )
    # A contract-renewal item's contract. The one reference from the roster to an app above it:
    # a lazy model reference (no import), kept so the inbox's table and data stay as they were;
    # roster's code reads contract dates only through roster.hooks.contract_renewals.
    contract = models.ForeignKey(
        "enrollment.PayerContract",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="inbox_items",
    )
    # An item a downstream app raised through roster.hooks.inbox_items_due: the id of its row
    # (no foreign key: roster knows no table above it) and the page the item opens.
    subject_id = models.UUIDField(null=True, blank=True)
    link = models.CharField(max_length=300, blank=True)
    assigned_to = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=InboxStatus.choices, default=InboxStatus.OPEN)
    snoozed_until = models.DateField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    @property
    def requested_document_label(self) -> str:
        """For a document request: the requested document's type (its key names it)."""
        if self.kind != InboxKind.DOCUMENT_REQUESTED:
            return ""
        parts = self.key.split(":")
        kind = parts[2] if len(parts) > 2 else ""
        return dict(DocumentKind.choices).get(kind, "Document")

    @property
    def credential_still_expired(self) -> bool:
        """About a credential that is expired (due today or before) and not renewed since."""
        if self.kind != InboxKind.CREDENTIAL_EXPIRY or self.credential is None:
            return False
        expiry = self.credential.expiry_date
        return expiry is not None and expiry == self.due_date and expiry <= timezone.localdate()

    class Meta:
        ordering = ["due_date"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="inbox_key_unique")
        ]
        indexes = [
            models.Index(
                fields=["organization", "status", "due_date"], name="inbox_org_status_due_idx"
            ),
        ]


# --- CSV import -----------------------------------------------------------------------------


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    VALIDATING = "validating", "Validating"
    REJECTED = "rejected", "Rejected (nothing written)"
    IMPORTING = "importing", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


def import_path(instance, filename: str) -> str:
    return f"imports/{instance.organization_id}/{instance.id}/{filename}"


class ImportJob(TenantModel):
    created_by = models.ForeignKey(
        "credex.Membership", null=True, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to=import_path, max_length=300)
    documents_zip = models.FileField(upload_to=import_path, max_length=300, blank=True)
    original_name = models.CharField(max_length=255)
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row","column","value","reason"}]
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    # Documents the file left out and requested from the providers (documents can follow).
    documents_requested = models.PositiveIntegerField(default=0)
    upload_links_sent = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Times the job reconciler re-published this job's lost task (credex/jobs.py).
    attempts = models.PositiveSmallIntegerField(default=0)
    # The API key that started a queued import (the task runs as that key): the reconciler
    # re-publishes the task with it. No foreign key: a revoked or deleted key fails the job.
    started_by_key = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
