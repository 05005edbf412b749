"""Reads for credential packages: what goes into a package, the package list and detail,
build progress, payer shares and (through hooks.payer_contacts) the contacts to share with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from credex.errors import NotFound
from credex.links import link_state
from credex.services import get_or_404
from roster.models import (
    Credential,
    CredentialKind,
    CredentialStatus,
    Document,
    DocumentStatus,
    Provider,
)
from verifications import hooks
from verifications.models import (
    CredentialPackage,
    PackageShare,
    PackageStatus,
    VerificationSource,
)
from verifications.selectors.records import provider_verifications, valid_verifications

# Documents a payer expects in the package, in the order they are attached.
PACKAGE_DOCUMENT_KINDS = (
    "license",
    "dea",
    "cds",
    "board_cert",
    "malpractice",
    "cv",
    "diploma",
    "attestation",
    "life_support",
)
# Credential kinds whose every current record needs a primary-source verification.
VERIFIED_KINDS = (
    CredentialKind.STATE_LICENSE,
    CredentialKind.DEA,
    CredentialKind.CDS,
    CredentialKind.BOARD_CERT,
    CredentialKind.MALPRACTICE,
)
# Checks made per provider (the screening issue records them automatically).
PROVIDER_CHECKS = (VerificationSource.NPPES, VerificationSource.OIG, VerificationSource.SAM)


def progress_key(package_id) -> str:
    return f"credex.verifications.package.progress:{package_id}"


@dataclass
class PackageContent:
    """Everything the front matter shows, read in the organization's scope."""

    org: object
    provider: Provider
    type_name: str
    specialties: list[str]
    credentials: list[Credential]
    verifications: list
    screening: list[dict]
    nppes: object
    review: object | None  # the committee's review (verifications.hooks.package_committee_review)
    documents: list[Document]
    missing: list[dict] = field(default_factory=list)
    generated_at: object = None


def _credential_label(c: Credential) -> str:
    label = c.get_kind_display()
    if c.state:
        label += f" ({c.state})"
    if c.number:
        label += f" {c.number}"
    return label


def _missing_verifications(*, org, provider, credentials, today: date) -> list[dict]:
    valid = list(valid_verifications(org=org, decision_date=today).filter(provider=provider))
    by_credential = {v.credential_id for v in valid if v.credential_id}
    by_source = {v.source for v in valid if not v.credential_id}
    missing = []
    for c in credentials:
        if c.kind not in VERIFIED_KINDS or c.status == CredentialStatus.INACTIVE:
            continue
        if c.pk not in by_credential:
            missing.append(
                {
                    "category": "verification",
                    "message": f"{_credential_label(c)}: no primary-source verification within "
                    f"the last {org.psv_validity_days} days.",
                }
            )
    for source in PROVIDER_CHECKS:
        if source not in by_source:
            message = f"{VerificationSource(source).label}: no check within the last " + (
                f"{org.psv_validity_days} days."
            )
            if source == VerificationSource.NPPES:
                message = _failed_nppes_message(org, provider, today) or message
            missing.append({"category": "verification", "message": message})
    return missing


def _failed_nppes_message(org, provider, today: date) -> str:
    """When the latest NPPES check failed, the package says so (and why), rather than
    suggesting nobody checked."""
    from screening.nppes.models import NppesCheck
    from screening.nppes.selectors import failure_summary

    check = NppesCheck.objects.filter(organization=org, provider=provider).first()
    if check is None or not check.failed:
        return ""
    day = timezone.localdate(check.checked_at)
    when = "today" if day == today else f"on {day:%-d %b %Y}"
    summary = failure_summary(
        check.error_detail,
        outcome=check.outcome,
        http_status=check.http_status,
        attempts=check.attempts,
    )
    return f"NPPES check failed {when}: {summary['headline']} ({summary['detail'].rstrip('.')})."


def _screening(org, provider) -> tuple[list[dict], object]:
    from screening.models import list_is_stale
    from screening.nppes.models import NppesCheck
    from screening.selectors import provider_screening_history

    history = provider_screening_history(org, provider, limit=4)
    rows = []
    for status in history["latest"]:
        as_of = status.version.as_of if status.version else None
        rows.append(
            {
                "label": status.label,
                "checked_at": status.checked_at,
                "version": str(status.version) if status.version else "",
                "outcome": status.outcome,
                "matches": status.matches,
                "list_as_of": as_of,
                # the list was past STALE_LIST_DAYS when the check used it
                "list_stale": list_is_stale(as_of, status.checked_at),
            }
        )
    nppes = NppesCheck.objects.filter(organization=org, provider=provider).first()
    return rows, nppes


def package_content(*, org, provider: Provider, today: date | None = None) -> PackageContent:
    """Read everything a package of this provider shows (front matter and documents)."""
    from roster.selectors.providers import provider_type_choices, taxonomy_names
    from roster.services.requirements import provider_missing, requirements_for_type

    today = today or timezone.localdate()
    credentials = list(
        Credential.objects.filter(organization=org, provider=provider).order_by(
            "kind", "state", "-expiry_date"
        )
    )
    all_documents = list(Document.objects.filter(organization=org, provider=provider))
    codes = [c for c in [provider.primary_taxonomy_id, *provider.taxonomy_codes] if c]
    names = taxonomy_names(codes)
    specialties = []
    for code in dict.fromkeys(codes):
        specialties.append(f"{names.get(code, code)} ({code})")
    required = requirements_for_type(org=org, provider_type=provider.provider_type)
    missing = [
        {"category": "requirement", "message": m.message}
        for m in provider_missing(
            provider=provider,
            required=required,
            credentials=credentials,
            documents=all_documents,
            today=today,
        )
    ]
    missing += _missing_verifications(
        org=org, provider=provider, credentials=credentials, today=today
    )
    order = {kind: i for i, kind in enumerate(PACKAGE_DOCUMENT_KINDS)}
    documents = sorted(
        (
            d
            for d in all_documents
            if d.status == DocumentStatus.ACCEPTED and d.kind in PACKAGE_DOCUMENT_KINDS
        ),
        key=lambda d: (order[d.kind], d.created_at),
    )
    screening, nppes = _screening(org, provider)
    review = next(
        (
            r
            for r in hooks.package_committee_review.collect(org=org, provider=provider)
            if r is not None
        ),
        None,
    )
    return PackageContent(
        org=org,
        provider=provider,
        type_name=dict(provider_type_choices(org=org)).get(
            provider.provider_type, provider.provider_type
        ),
        specialties=specialties,
        credentials=credentials,
        verifications=provider_verifications(org=org, provider=provider),
        screening=screening,
        nppes=nppes,
        review=review,
        documents=documents,
        missing=missing,
        generated_at=timezone.now(),
    )


# --- packages -------------------------------------------------------------------------------
def package_list(*, org, status: str = "", provider_id=None, q: str = "") -> QuerySet:
    """The organization's packages, newest first, with their share counts."""
    qs = (
        CredentialPackage.objects.filter(organization=org)
        .select_related("provider", "requested_by__user")
        .annotate(share_count=Count("shares"))
        .order_by("-created_at")
    )
    if status:
        qs = qs.filter(status=status)
    if provider_id:
        qs = qs.filter(provider_id=provider_id)
    if q:
        qs = qs.filter(
            Q(provider__last_name__icontains=q)
            | Q(provider__first_name__icontains=q)
            | Q(provider__npi__startswith=q)
        )
    return qs


def package_status_counts(*, org) -> dict[str, int]:
    """{status: n} over the organization's packages, with "all"."""
    rows = (
        CredentialPackage.objects.filter(organization=org)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    counts = dict.fromkeys(PackageStatus.values, 0)
    counts.update(dict(rows))
    counts["all"] = sum(counts[s] for s in PackageStatus.values)
    return counts


def package_get(*, org, package_id) -> CredentialPackage:
    """One package of the organization, or NotFound (also for another org's id)."""
    return get_or_404(
        CredentialPackage.objects.filter(organization=org).select_related(
            "provider", "requested_by__user"
        ),
        pk=package_id,
    )


def packages_for_provider(*, org, provider, limit: int = 5) -> list[CredentialPackage]:
    """A provider's most recent packages."""
    return list(
        CredentialPackage.objects.filter(organization=org, provider=provider)
        .annotate(share_count=Count("shares"))
        .order_by("-created_at")[:limit]
    )


@dataclass
class BuildProgress:
    status: str
    phase: str = ""
    processed: int = 0
    total: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in (PackageStatus.QUEUED, PackageStatus.BUILDING)

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else 0


def package_progress(package: CredentialPackage) -> BuildProgress:
    """Live progress: the worker publishes it in the cache (the row commits at the end)."""
    from credex.jobs import job_is_stalled

    if package.status in (PackageStatus.QUEUED, PackageStatus.BUILDING):
        if job_is_stalled(package):
            return BuildProgress(status="stalled", phase="no worker has taken this build")
        live = cache.get(progress_key(package.pk))
        if live:
            return BuildProgress(
                status=PackageStatus.BUILDING,
                phase=live.get("phase", ""),
                processed=live.get("processed", 0),
                total=live.get("total", 0),
            )
        return BuildProgress(status=package.status, phase="waiting for a worker")
    return BuildProgress(status=package.status)


# --- shares --------------------------------------------------------------------------------
def share_state(share: PackageShare) -> str:
    """active, expired or revoked."""
    return link_state(share)


def shares_for_package(*, org, package) -> list[PackageShare]:
    """A package's shares, newest first, each with its state."""
    shares = list(
        PackageShare.objects.filter(organization=org, package=package).select_related(
            "contact__payer", "created_by__user"
        )
    )
    for s in shares:
        s.state = share_state(s)
    return shares


def share_get(*, org, share_id) -> PackageShare:
    """One share of the organization, or NotFound."""
    return get_or_404(
        PackageShare.objects.filter(organization=org).select_related("package", "contact"),
        pk=share_id,
    )


# --- payer contacts (the enrollment app's, through hooks.payer_contacts) ----------------------
def _contacts(org):
    """The organization's payer contacts, from the app that keeps them (hooks.payer_contacts)."""
    answers = hooks.payer_contacts.collect(org=org)
    return answers[0] if answers else None


def contact_get(*, org, contact_id):
    """One payer contact of the organization (to share a package with), or NotFound."""
    contacts = _contacts(org)
    if contacts is None:
        raise NotFound("Not found.")
    return get_or_404(contacts, pk=contact_id)


def payers_with_contacts(*, org) -> list:
    """The organization's payers that have contacts, each with them (`contact_list`), by name:
    the share form's choices."""
    payers: dict = {}
    for c in _contacts(org) or []:  # by payer name, then name
        payer = payers.get(c.payer_id)
        if payer is None:
            payer = payers[c.payer_id] = c.payer
            payer.contact_list = []
        payer.contact_list.append(c)
    return list(payers.values())
