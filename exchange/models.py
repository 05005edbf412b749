"""The verification exchange: membership and accreditation, clinician releases, listings,
requirements, member-governed prices, orders, receipts, ratings and disputes.

Every organization-owned table is tenant data (TenantModel, RLS, same-organization foreign
keys). What crosses organizations does so only through the policies in migration 0002:
- a listing (metadata only) and an approved member's public profile are readable by every
  organization with an approved membership;
- an order, its receipt, rating and dispute are readable by the buyer (the row's
  organization) and the seller (`seller_organization`);
- the exchange operator (platform staff) reads through the platform path.
The seller's Verification and evidence rows never become readable by another organization:
a purchase copies them inside one transaction (exchange/services/purchases.py).

Global tables (no organization): platform settings, default prices, market rates and the
receipt signing keys' public halves.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from credex.tenancy import TenantModel
from verifications.models import VerificationMethod, VerificationSource

# --- platform settings (global) ------------------------------------------------------------


class ExchangeSettings(models.Model):
    """The platform's exchange rules: one row (pk=1), edited by the operator."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    # NCQA: a verification older than this cannot be listed, and a listing expires with it.
    max_age_days = models.PositiveSmallIntegerField(default=120)
    vote_quorum = models.PositiveSmallIntegerField(default=5)
    price_band_percent = models.PositiveSmallIntegerField(default=25)
    # Facilitation fee: basis points of the price, at least `fee_minimum_cents`.
    fee_basis_points = models.PositiveIntegerField(default=1000)
    fee_minimum_cents = models.PositiveIntegerField(default=200)
    dispute_window_days = models.PositiveSmallIntegerField(default=30)
    release_expiry_warning_days = models.PositiveSmallIntegerField(default=30)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "exchange settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="exchange_settings_single_row")
        ]

    def __str__(self) -> str:
        return "Exchange settings"

    @classmethod
    def current(cls) -> ExchangeSettings:
        return cls.objects.get_or_create(pk=1)[0]


class DefaultPrice(models.Model):
    """The operator's price per verification type, used until a quarter's votes reach quorum."""

    source = models.CharField(max_length=30, choices=VerificationSource.choices, unique=True)
    price_cents = models.PositiveIntegerField()
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.price_cents} cents"


class MarketRate(models.Model):
    """The price of a verification type in a quarter: the median of the members' votes when
    at least a quorum voted, otherwise the default price. Recomputed on every vote."""

    quarter = models.CharField(max_length=7)  # "2026Q4"
    source = models.CharField(max_length=30, choices=VerificationSource.choices)
    rate_cents = models.PositiveIntegerField()
    vote_count = models.PositiveIntegerField(default=0)
    basis = models.CharField(
        max_length=10, choices=[("median", "Median of votes"), ("default", "Default price")]
    )
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-quarter", "source"]
        constraints = [
            models.UniqueConstraint(fields=["quarter", "source"], name="market_rate_once")
        ]

    def __str__(self) -> str:
        return f"{self.quarter} {self.get_source_display()}: {self.rate_cents} cents"


class ReceiptKey(models.Model):
    """A receipt signing key's public half, published with its id. The private half comes from
    the environment (settings.EXCHANGE_RECEIPT_KEYS) and is never stored in the database.
    A retired key signs nothing new and still verifies what it signed."""

    key_id = models.CharField(max_length=40, primary_key=True)
    algorithm = models.CharField(max_length=20, default="Ed25519")
    public_key = models.CharField(max_length=100)  # base64 of the 32 raw bytes
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    # --- membership ----------------------------------------------------------------------------

    def __str__(self) -> str:
        return self.key_id


class MembershipStatus(models.TextChoices):
    PENDING = "pending", "Application under review"
    INFO_REQUESTED = "info_requested", "More information requested"
    APPROVED = "approved", "Approved member"
    REJECTED = "rejected", "Rejected"
    SUSPENDED = "suspended", "Suspended"


class AccreditingBody(models.TextChoices):
    NCQA = "ncqa", "NCQA"
    TJC = "tjc", "The Joint Commission"
    URAC = "urac", "URAC"
    AAAHC = "aaahc", "AAAHC"
    DNV = "dnv", "DNV"
    STATE = "state", "State"


class AccreditationStatus(models.TextChoices):
    ACCREDITED = "accredited", "Accredited"
    PROVISIONAL = "provisional", "Provisional"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class ExchangeMembership(TenantModel):
    """An organization's exchange membership (one per organization), from application to
    approval, suspension or rejection. Its public part (name, rating, trades) is readable by
    approved members when the membership is approved."""

    status = models.CharField(
        max_length=20, choices=MembershipStatus.choices, default=MembershipStatus.PENDING
    )
    display_name = models.CharField(max_length=200)  # the seller name members see
    profile = models.TextField(blank=True)  # who the organization is
    contact_name = models.CharField(max_length=200)
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=40, blank=True)
    credentialing_requirements = models.TextField(blank=True)
    releases_attested = models.BooleanField(default=False)
    attested_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attested_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.TextField(blank=True)  # rejection reason or information asked for
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.TextField(blank=True)
    # The daily standing job paused this member's listings because its accreditation lapsed.
    standing_paused_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="exchange_one_membership")
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_status_display()})"


class MemberDirectory(models.Model):
    """The public face of a member, one row per organization that applied: the name, status,
    standing and trading record every member may see next to a listing. Global on purpose
    (no RLS): the exchange's policies ask it whether the current organization is an approved
    member, which a policy on the private ExchangeMembership table could not do without
    recursing. Written only by the membership, order and rating services."""

    member = models.OneToOneField(
        "credex.Organization", primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    display_name = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=MembershipStatus.choices)
    good_standing = models.BooleanField(default=False)  # a current accreditation
    trade_count = models.PositiveIntegerField(default=0)  # sales completed
    rating_count = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.display_name

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 1) if self.rating_count else None


def accreditation_evidence_path(instance, filename: str) -> str:
    return f"exchange/{instance.organization_id}/accreditation/{instance.id}"


class Accreditation(TenantModel):
    """An accreditation the member holds, with its evidence. The current one (accredited or
    provisional, not expired) is what good standing means."""

    membership = models.ForeignKey(
        ExchangeMembership, on_delete=models.PROTECT, related_name="accreditations"
    )
    body = models.CharField(max_length=10, choices=AccreditingBody.choices)
    body_state = models.CharField(max_length=2, blank=True)  # for a state body
    status = models.CharField(max_length=20, choices=AccreditationStatus.choices)
    expires_on = models.DateField()
    evidence = models.FileField(upload_to=accreditation_evidence_path, max_length=300, blank=True)
    evidence_name = models.CharField(max_length=255, blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-expires_on", "-recorded_at"]


# --- clinician releases ----------------------------------------------------------------------


class ReleaseMethod(models.TextChoices):
    DOCUMENT = "document", "Signed document on file"
    ESIGN = "esign", "E-signed by the clinician"


def release_document_path(instance, filename: str) -> str:
    return f"exchange/{instance.organization_id}/releases/{instance.id}"


class ClinicianRelease(TenantModel):
    """A clinician's authorization to share (seller) or obtain (buyer) verifications through
    the exchange. Current when signed, not expired and not revoked."""

    provider = models.ForeignKey(
        "roster.Provider", on_delete=models.PROTECT, related_name="exchange_releases"
    )
    scope_all = models.BooleanField(default=True)
    scope_sources = models.JSONField(default=list, blank=True)  # VerificationSource values
    signed_on = models.DateField()
    expires_on = models.DateField()
    method = models.CharField(max_length=10, choices=ReleaseMethod.choices)
    document = models.FileField(upload_to=release_document_path, max_length=300, blank=True)
    document_name = models.CharField(max_length=255, blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    # E-signature: what the clinician typed, when, from where, and the exact text shown.
    signer_name = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signer_ip = models.GenericIPAddressField(null=True, blank=True)
    text_shown = models.TextField(blank=True)
    text_sha256 = models.CharField(max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-expires_on"]
        indexes = [
            models.Index(fields=["organization", "provider", "expires_on"], name="release_idx")
        ]

    def covers(self, source: str) -> bool:
        return self.scope_all or source in (self.scope_sources or [])


class ReleaseRequest(TenantModel):
    """An e-signature asked of a clinician: the row behind the signed release link (the
    RELEASE spec of credex.links). Signing it creates the ClinicianRelease (`release`), after
    which the link answers 410."""

    provider = models.ForeignKey("roster.Provider", on_delete=models.PROTECT, related_name="+")
    scope_all = models.BooleanField(default=True)
    scope_sources = models.JSONField(default=list, blank=True)
    release_expires_on = models.DateField()  # the release's expiry once signed
    email = models.EmailField(max_length=254)
    release = models.OneToOneField(
        ClinicianRelease, null=True, blank=True, on_delete=models.PROTECT, related_name="request"
    )
    # The link's own lifetime (credex.links): expires_at, revoked_at, created_by.
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]


# --- listings --------------------------------------------------------------------------------


class ListingStatus(models.TextChoices):
    LIVE = "live", "Listed"
    PAUSED = "paused", "Paused"
    EXPIRED = "expired", "Expired (past the maximum age)"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Listing(TenantModel):
    """A verification offered on the exchange. Holds only what every approved member may see;
    details and evidence stay in the seller's Verification until a purchase copies them."""

    verification = models.ForeignKey(
        "verifications.Verification", on_delete=models.PROTECT, related_name="+"
    )
    provider = models.ForeignKey("roster.Provider", on_delete=models.PROTECT, related_name="+")
    seller_name = models.CharField(max_length=200)
    npi = models.CharField(max_length=10)
    clinician_name = models.CharField(max_length=200)
    source = models.CharField(max_length=30, choices=VerificationSource.choices)
    source_state = models.CharField(max_length=2, blank=True)
    source_name = models.CharField(max_length=200, blank=True)
    method = models.CharField(max_length=20, choices=VerificationMethod.choices)
    verified_at = models.DateTimeField()
    expires_at = models.DateTimeField()  # verified_at + the maximum age
    # None: sold at the quarter's market rate; otherwise within the band around it.
    price_cents = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=ListingStatus.choices, default=ListingStatus.LIVE
    )
    # Why it is paused or withdrawn: "seller", "standing", "suspended", "exclusion",
    # "superseded", "release" ...
    status_reason = models.CharField(max_length=30, blank=True)
    status_note = models.CharField(max_length=300, blank=True)
    sale_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-verified_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "verification"], name="listing_one_per_verification"
            )
        ]
        indexes = [
            models.Index(
                fields=["npi", "source"],
                condition=models.Q(status="live"),
                name="listing_live_npi_idx",
            ),
            models.Index(fields=["organization", "status"], name="listing_org_status_idx"),
            models.Index(fields=["organization", "provider"], name="listing_org_provider_idx"),
        ]


class ListingBatch(TenantModel):
    """A bulk listing run (all eligible records of the organization), with its progress."""

    status = models.CharField(
        max_length=20,
        default="queued",
        choices=[
            ("queued", "Queued"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
        ],
    )
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    listed = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True)  # reason -> count
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    requested_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


# --- requirements ------------------------------------------------------------------------------


class RequirementsProfile(TenantModel):
    """What a member accepts from the exchange (one per organization)."""

    min_seller_rating = models.DecimalField(max_digits=2, decimal_places=1, null=True, blank=True)
    updated_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="exchange_one_requirements")
        ]


class RequirementRule(TenantModel):
    """One accepted verification type: its maximum age, accepted methods and source states
    (empty list: any)."""

    profile = models.ForeignKey(RequirementsProfile, on_delete=models.CASCADE, related_name="rules")
    source = models.CharField(max_length=30, choices=VerificationSource.choices)
    max_age_days = models.PositiveSmallIntegerField(default=120)
    methods = models.JSONField(default=list, blank=True)
    source_states = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["source"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "profile", "source"], name="exchange_rule_once"
            )
        ]


# --- pricing ---------------------------------------------------------------------------------


class PriceVote(TenantModel):
    """A member's vote for a verification type's price in a quarter (one per member, type and
    quarter; changeable until the quarter closes)."""

    quarter = models.CharField(max_length=7)
    source = models.CharField(max_length=30, choices=VerificationSource.choices)
    price_cents = models.PositiveIntegerField()
    voted_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "quarter", "source"], name="price_vote_once"
            )
        ]
        indexes = [models.Index(fields=["quarter", "source"], name="price_vote_quarter_idx")]


# --- orders ----------------------------------------------------------------------------------


class OrderStatus(models.TextChoices):
    COMPLETED = "completed", "Completed"
    REFUNDED = "refunded", "Refunded"


class Order(TenantModel):
    """A purchase. The row belongs to the buyer (`organization`) and is readable by the seller.
    The listing and the seller's record are named by id only (they are the seller's rows)."""

    seller_organization = models.ForeignKey(
        "credex.Organization", on_delete=models.PROTECT, related_name="+"
    )
    seller_name = models.CharField(max_length=200)
    listing_id = models.UUIDField()
    seller_verification_id = models.UUIDField()
    idempotency_key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)  # the request a key was first used with
    provider = models.ForeignKey("roster.Provider", on_delete=models.PROTECT, related_name="+")
    # The buyer's copy of the record (method "exchange", provenance in its data).
    verification = models.OneToOneField(
        "verifications.Verification", on_delete=models.PROTECT, related_name="exchange_order"
    )
    npi = models.CharField(max_length=10)
    clinician_name = models.CharField(max_length=200)
    source = models.CharField(max_length=30, choices=VerificationSource.choices)
    source_state = models.CharField(max_length=2, blank=True)
    original_method = models.CharField(max_length=20, choices=VerificationMethod.choices)
    original_verified_at = models.DateTimeField()
    price_cents = models.PositiveIntegerField()
    fee_cents = models.PositiveIntegerField()
    total_cents = models.PositiveIntegerField()
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.COMPLETED
    )
    # Unmet requirement rules the buyer overrode, and why (audited).
    overridden_rules = models.JSONField(default=list, blank=True)
    override_reason = models.TextField(blank=True)
    journal_entry_id = models.UUIDField(null=True, blank=True)  # billing.JournalEntry
    bought_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    bought_by_label = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"], name="order_idempotency_key"
            ),
            models.UniqueConstraint(
                fields=["organization", "listing_id"], name="order_once_per_listing"
            ),
            models.CheckConstraint(
                condition=models.Q(total_cents=models.F("price_cents") + models.F("fee_cents")),
                name="order_total_is_price_plus_fee",
            ),
        ]
        indexes = [
            models.Index(fields=["seller_organization", "created_at"], name="order_seller_idx"),
            models.Index(fields=["organization", "created_at"], name="order_buyer_idx"),
        ]


class Receipt(TenantModel):
    """The signed receipt of an order (buyer's row, readable by the seller)."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="receipt")
    seller_organization = models.ForeignKey(
        "credex.Organization", on_delete=models.PROTECT, related_name="+"
    )
    key_id = models.CharField(max_length=40)
    payload = models.JSONField()  # what was signed (canonical JSON of this, sorted keys)
    signature = models.CharField(max_length=200)  # base64 Ed25519 signature
    created_at = models.DateTimeField(default=timezone.now)


class Rating(TenantModel):
    """The buyer's rating of the seller for one order (once)."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="rating")
    seller_organization = models.ForeignKey(
        "credex.Organization", on_delete=models.PROTECT, related_name="+"
    )
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    rated_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=1) & models.Q(score__lte=5), name="rating_1_to_5"
            )
        ]


class DisputeReason(models.TextChoices):
    WRONG_CLINICIAN = "wrong_clinician", "Wrong clinician"
    STALE = "stale", "Stale"
    INCOMPLETE = "incomplete", "Incomplete"
    OTHER = "other", "Other"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    REFUNDED = "refunded", "Resolved with a refund"
    REJECTED = "rejected", "Rejected"


class Dispute(TenantModel):
    """A buyer's dispute of an order (within the dispute window), resolved by the operator."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="disputes")
    seller_organization = models.ForeignKey(
        "credex.Organization", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=DisputeReason.choices)
    description = models.TextField()
    status = models.CharField(
        max_length=20, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    opened_by = models.ForeignKey(
        "credex.Membership", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    reversal_entry_id = models.UUIDField(null=True, blank=True)  # billing.JournalEntry

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            # One open dispute per order.
            models.UniqueConstraint(
                fields=["organization", "order"],
                condition=models.Q(status="open"),
                name="dispute_one_open",
            )
        ]
