"""Users, organizations (the tenants), memberships with roles, invitations and API keys."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone

from credex.tenancy import TenantManager, TenantModel

# Organization setting ranges, (lowest, highest): the one place the table's constraints, the
# settings service, the API serializer and the settings page read them from.
# NCQA requires re-credentialing at least every 36 months.
RECREDENTIALING_CYCLE_MONTHS = (6, 36)
# NCQA allows at most 120 days for most elements; some organizations keep a longer window.
PSV_VALIDITY_DAYS = (30, 365)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person who signs in. Global (not tenant data); belongs to organizations via Membership."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = None
    email = models.EmailField("e-mail address", unique=True)
    # Platform staff who run the verification exchange (applications, standing, disputes).
    # A platform role outside every tenant: never a Membership.
    is_exchange_operator = models.BooleanField(default=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


class Organization(models.Model):
    """A tenant. Global table: the switcher and the URL resolver look organizations up by slug."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    recredentialing_cycle_months = models.PositiveSmallIntegerField(default=36)
    # NCQA (2025): a verification counts for a credentialing decision only if it was made
    # within this many days before the decision.
    psv_validity_days = models.PositiveSmallIntegerField(default=120)
    require_mfa = models.BooleanField(
        default=False, help_text="Members must set up two-factor authentication."
    )
    # A roster import may arrive before its documents: providers are imported as applicants
    # and every missing required document becomes an inbox item and an upload request.
    import_documents_can_follow = models.BooleanField(
        default=False,
        help_text="A CSV import may leave out required documents; they are requested from "
        "the providers.",
    )
    # Set by billing when the trial ended without a payment method or the grace period after a
    # failed payment ran out: every write answers "billing past due" (credex/writes.py) until
    # it is cleared; reads and exports keep working and nothing is deleted.
    writes_paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    writes_paused_reason = models.CharField(max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    recredentialing_cycle_months__gte=RECREDENTIALING_CYCLE_MONTHS[0]
                )
                & models.Q(recredentialing_cycle_months__lte=RECREDENTIALING_CYCLE_MONTHS[1]),
                name="org_recred_cycle_6_to_36",
            ),
            models.CheckConstraint(
                condition=models.Q(psv_validity_days__gte=PSV_VALIDITY_DAYS[0])
                & models.Q(psv_validity_days__lte=PSV_VALIDITY_DAYS[1]),
                name="org_psv_validity_30_to_365",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    COORDINATOR = "coordinator", "Coordinator"
    AUDITOR = "auditor", "Auditor"


class MembershipManager(TenantManager):
    """Current members only: a removed membership (`removed_at` set) grants nothing, so every
    query through `Membership.objects` (tenancy, pickers, member lists, role lookups) treats it
    as no membership. `Membership.all_objects` also sees removed ones (history, re-invite)."""

    def get_queryset(self):
        return super().get_queryset().filter(removed_at__isnull=True)

    def for_user(self, user):
        """The user's own current memberships across organizations (RLS: app.current_user)."""
        return models.QuerySet(self.model, using=self._db).filter(
            user=user, removed_at__isnull=True
        )


class Membership(TenantModel):
    """A user's membership of an organization. Never deleted: removal sets `removed_at`, so the
    work records that name the member (decided_by, reviewed_by, ...) keep who did it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # The first manager is the default one (forms, pickers, reverse relations): current
    # members only. Related-object access (`review.decided_by`) goes through the base manager,
    # which sees removed members too, so history keeps their names.
    objects = MembershipManager()
    all_objects = TenantManager()

    class Meta:
        base_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_user")
        ]
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    @property
    def display_name(self) -> str:
        """The member's name for history: "Name (removed)" once removed."""
        name = self.user.display_name
        return f"{name} (removed)" if self.is_removed else name


class Invitation(TenantModel):
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    invited_by = models.ForeignKey(
        Membership, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open invitation per address and organization (an expired one is revoked
            # when the address is invited again).
            models.UniqueConstraint(
                "organization",
                models.functions.Lower("email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class ApiKey(TenantModel):
    """A per-organization API key. Only a hash is stored; the key is shown once."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.COORDINATOR)
    created_by = models.ForeignKey(
        Membership, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
