"""The independent coordinator's per-client invoice and the rate card it is priced with.

Decisions where the issue was silent:

- **Who.** An independent coordinator is one person with the coordinator role (the role that
  holds `clients.invoice`) in two or more organizations; those organizations are their
  clients. Owners, admins and auditors bill nobody, an employee coordinator of one
  organization has no clients to invoice, and an API key acts for one organization, never
  for a person: all are refused (403).
- **The rate card** is the person's own (`billing.CoordinatorRate`, RLS on its owner): a
  default card, and optionally one per client that replaces it for that client. Rates are
  integer cents, 0 to RATE_MAX_CENTS each; a card never set prices everything at $0.00.
- **What is billed** is the work the coordinator did themselves (the audit events whose actor
  is this person), in the period, in each client's own audit log:
  - verifications recorded: `verifications.verification.recorded` (a correction is not new
    work and is not billed);
  - packages built: `verifications.package.built` (recorded by the package builder) of the
    packages this person requested (`verifications.package.requested`, at any time);
  - enrollments submitted: `roster.enrollment.submitted` and `roster.enrollment.resubmitted`;
  - re-credentialing completed: `roster.committee.decided` of a re-credentialing review with a
    decision that closes it (approved, approved with conditions, denied; a deferral sends the
    file back, so it is not a completion);
  - providers managed: the client's providers assigned to this person (Provider.coordinator)
    that are active or applicants, read from the roster when the invoice is made (the
    roster's current state, not its history), at the monthly rate for each month of the
    period; a partial month is prorated by its days, rounded to the cent (half up).
- **Scope.** Each client is read inside its own `tenant_context` (ORM scope and RLS), one
  after the other; never a query that spans organizations. A client that requires two-factor
  authentication is not read while the person has none (the same rule as at /o/<slug>/), and
  the invoice says so.
- **Period.** Dates in the installation's time zone, both ends included, at most 366 days,
  between 2000 and 2100. The default is last month.
- **Audit.** Rate changes are the person's own data: the platform chain, actor the person.
  Showing the invoice records one `roster.provider.list_viewed` per client naming the providers
  shown (the rule for lists of provider data); an export (CSV, PDF) records
  `billing.client_invoice.exported` in each client's chain (who, which period, the format,
  the client's total and the providers named).

`client_invoice` is a read; it lives here beside the rates it prices so the rules above stay in
one module.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fractions import Fraction

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from audit.models import ActorKind, AuditEvent
from audit.services import Actor, audit_record
from billing.models import RATE_MAX_CENTS, CoordinatorRate
from credex import capabilities as cap
from credex.errors import Forbidden, InvalidInput, NotFound
from credex.models import Membership, Organization
from credex.money import format_cents
from credex.tenancy import tenant_context

PERIOD_MAX_DAYS = 366
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)

VERIFICATION_RECORDED = "verifications.verification.recorded"
PACKAGE_REQUESTED = "verifications.package.requested"
PACKAGE_BUILT = "verifications.package.built"
ENROLLMENT_SUBMITTED = ("roster.enrollment.submitted", "roster.enrollment.resubmitted")
COMMITTEE_DECIDED = "roster.committee.decided"
RECREDENTIALING_CLOSED = ("approved", "approved_with_conditions", "denied")
MANAGED_STATUSES = ("active", "applicant")


@dataclass(frozen=True)
class WorkKind:
    code: str
    label: str
    rate_field: str
    unit: str


# In invoice order. The provider line is priced per month; the others per item.
WORK_KINDS = (
    WorkKind("providers", "Providers managed", "provider_month_cents", "per provider per month"),
    WorkKind("verifications", "Verifications recorded", "verification_cents", "each"),
    WorkKind("packages", "Credential packages built", "package_cents", "each"),
    WorkKind("enrollments", "Enrollments submitted", "enrollment_cents", "each"),
    WorkKind("recredentialing", "Re-credentialing completed", "recredentialing_cents", "each"),
)
# The rate form's labels: the price of one unit.
RATE_LABELS = {
    "provider_month_cents": "Provider managed, a month",
    "verification_cents": "Verification recorded",
    "package_cents": "Package built",
    "enrollment_cents": "Enrollment submitted",
    "recredentialing_cents": "Re-credentialing completed",
}


# --- who ------------------------------------------------------------------------------------------
def client_memberships(user) -> list[Membership]:
    """The person's memberships whose role invoices clients (coordinator), by client name.

    Reads the person's own memberships (RLS: app.current_user), so call it inside a request.
    """
    from credex.selectors import memberships_for_user

    clients = [
        m for m in memberships_for_user(user) if cap.has_capability(m.role, cap.INVOICE_CLIENTS)
    ]
    for m in clients:
        m.user = user  # the actor of the reads recorded in each client's chain
    return clients


def require_independent(user) -> list[Membership]:
    """The person's client memberships; Forbidden unless they are an independent coordinator."""
    clients = client_memberships(user)
    if not cap.serves_clients(m.role for m in clients):
        raise Forbidden(
            "The client invoice is for independent coordinators: the coordinator role in two "
            "or more organizations.",
            code="not_independent",
        )
    return clients


def _client_of(clients: list[Membership], client) -> Organization | None:
    """The client organization among the person's clients (by id, slug or row); None = none."""
    if client in (None, ""):
        return None
    key = str(getattr(client, "pk", client))
    for m in clients:
        if key in (str(m.organization_id), m.organization.slug):
            return m.organization
    # Not one of the person's clients answers like a client that does not exist.
    raise NotFound("No such client organization.", details={"client": ["Not one of your clients."]})


# --- the period -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @property
    def months(self) -> Fraction:
        """Calendar months covered: each month's share is its days in the period / its days."""
        total = Fraction(0)
        day = self.start.replace(day=1)
        while day <= self.end:
            days_in = calendar.monthrange(day.year, day.month)[1]
            last = day.replace(day=days_in)
            covered = (min(last, self.end) - max(day, self.start)).days + 1
            total += Fraction(covered, days_in)
            day = last + timedelta(days=1)
        return total

    def bounds(self) -> tuple[datetime, datetime]:
        tz = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=tz),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz),
        )

    def label(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def last_month(today: date | None = None) -> Period:
    today = today or timezone.localdate()
    end = today.replace(day=1) - timedelta(days=1)
    return Period(end.replace(day=1), end)


def _as_date(value, name: str, errors: dict) -> date | None:
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = "Use a date like 2026-11-01."
        return None


def period_parse(start=None, end=None, *, today: date | None = None) -> Period:
    """The invoice period from two dates (text or date); neither given: last month."""
    if start in (None, "") and end in (None, ""):
        return last_month(today)
    errors: dict[str, str] = {}
    first = _as_date(start, "start", errors)
    last = _as_date(end, "end", errors)
    for name, day in (("start", first), ("end", last)):
        if day is not None and not EARLIEST <= day <= LATEST:
            errors[name] = f"Choose a date between {EARLIEST.year} and {LATEST.year}."
    if not errors and first > last:
        errors["end"] = "The end date is before the start date."
    if not errors and (last - first).days + 1 > PERIOD_MAX_DAYS:
        errors["end"] = f"A period is at most {PERIOD_MAX_DAYS} days; choose an earlier end."
    if errors:
        raise InvalidInput("Choose a valid period.", details=errors)
    return Period(first, last)


# --- the rate card --------------------------------------------------------------------------------
@dataclass
class RateCard:
    default: dict[str, int]
    default_row: CoordinatorRate | None
    overrides: dict  # client organization id -> CoordinatorRate

    def for_client(self, org_id) -> dict[str, int]:
        row = self.overrides.get(org_id)
        return row.rates() if row else self.default


def rate_card(user) -> RateCard:
    """The person's default card and per-client overrides (RLS: only their own rows)."""
    rows = list(CoordinatorRate.objects.filter(owner=user))
    default_row = next((r for r in rows if r.client_id is None), None)
    zero = dict.fromkeys(CoordinatorRate.RATE_FIELDS, 0)
    return RateCard(
        default=default_row.rates() if default_row else zero,
        default_row=default_row,
        overrides={r.client_id: r for r in rows if r.client_id is not None},
    )


def _clean_rates(rates: dict) -> dict[str, int]:
    errors, clean = {}, {}
    for name in CoordinatorRate.RATE_FIELDS:
        value = rates.get(name)
        # bool is an int to Python; a rate of True is not a rate.
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name] = "Enter a whole number of cents."
        elif value < 0:
            errors[name] = "A rate cannot be negative."
        elif value > RATE_MAX_CENTS:
            errors[name] = f"A rate is at most {format_cents(RATE_MAX_CENTS)}."
        else:
            clean[name] = value
    unknown = sorted(set(rates) - set(CoordinatorRate.RATE_FIELDS))
    if unknown:
        errors["__all__"] = f"Unknown rates: {', '.join(map(str, unknown))[:200]}."
    if errors:
        raise InvalidInput("Some rates need attention.", details=errors)
    return clean


def rates_update(*, owner, rates: dict, client=None) -> CoordinatorRate:
    """Set the person's default rates, or one client's (`client`: id, slug or organization)."""
    clients = require_independent(owner)
    org = _client_of(clients, client)
    clean = _clean_rates(rates)
    with transaction.atomic():
        row = CoordinatorRate.objects.select_for_update().filter(owner=owner, client=org).first()
        before = row.rates() if row else dict.fromkeys(clean, None)
        if row is None:
            row = CoordinatorRate(owner=owner, client=org)
        for name, value in clean.items():
            setattr(row, name, value)
        changes = {k: {"from": before[k], "to": v} for k, v in clean.items() if before[k] != v}
        if changes or row._state.adding:
            row.updated_at = timezone.now()
            row.save()
            audit_record(
                org=None,
                actor=Actor.member(owner),
                action="billing.coordinator_rates.updated",
                target=row,
                data={"client": str(org.pk) if org else None, "changes": changes},
            )
    return row


def rates_clear(*, owner, client) -> None:
    """Drop one client's rates: that client is priced with the default card again."""
    clients = require_independent(owner)
    org = _client_of(clients, client)
    if org is None:
        raise InvalidInput(
            "The default rates cannot be removed; set them to 0 instead.",
            details={"client": ["Choose a client."]},
        )
    with transaction.atomic():
        row = CoordinatorRate.objects.select_for_update().filter(owner=owner, client=org).first()
        if row is None:
            return
        audit_record(
            org=None,
            actor=Actor.member(owner),
            action="billing.coordinator_rates.cleared",
            target=row,
            data={"client": str(org.pk), "rates": row.rates()},
        )
        row.delete()


# --- the invoice ----------------------------------------------------------------------------------
@dataclass
class Line:
    kind: str
    label: str
    quantity: int
    rate_cents: int
    amount_cents: int
    unit: str
    months: Fraction = Fraction(1)
    detail: str = ""

    @property
    def months_text(self) -> str:
        """ "1", "1.5", "0.48": the months a provider line covers (2 decimals at most)."""
        if self.months.denominator == 1:
            return str(self.months.numerator)
        return f"{float(self.months):.2f}".rstrip("0").rstrip(".")


@dataclass
class ClientInvoice:
    org: Organization
    membership: Membership
    blocked: bool = False
    providers: list = field(default_factory=list)  # Provider rows shown (id, names)
    lines: list[Line] = field(default_factory=list)
    total_cents: int = 0
    overridden: bool = False

    @property
    def counts(self) -> dict[str, int]:
        return {line.kind: line.quantity for line in self.lines}


@dataclass
class CoordinatorInvoice:
    user: object
    period: Period
    clients: list[ClientInvoice]
    total_cents: int
    currency: str = "usd"


def _round_half_up(value: Fraction) -> int:
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


def _mfa_missing(user) -> bool:
    from allauth.mfa.models import Authenticator

    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def _work_counts(org, user, period: Period) -> dict[str, int]:
    """The person's work in the period from the client's audit log: one query."""
    lo, hi = period.bounds()
    mine = Q(actor_kind=ActorKind.MEMBER, actor_id=str(user.pk))
    requested = AuditEvent.objects.filter(mine, organization=org, action=PACKAGE_REQUESTED)
    return AuditEvent.objects.filter(
        organization=org, created_at__gte=lo, created_at__lt=hi
    ).aggregate(
        verifications=Count("id", filter=mine & Q(action=VERIFICATION_RECORDED)),
        packages=Count(
            "id",
            filter=Q(action=PACKAGE_BUILT, target_id__in=requested.values("target_id")),
        ),
        enrollments=Count("id", filter=mine & Q(action__in=ENROLLMENT_SUBMITTED)),
        recredentialing=Count(
            "id",
            filter=mine
            & Q(
                action=COMMITTEE_DECIDED,
                data__cycle="recredentialing",
                data__decision__in=RECREDENTIALING_CLOSED,
            ),
        ),
    )


def _managed_providers(org, membership) -> list:
    from roster.models import Provider

    return list(
        Provider.objects.filter(
            organization=org, coordinator=membership, status__in=MANAGED_STATUSES
        )
        .only("id", "first_name", "middle_name", "last_name", "suffix", "legal_name", "dba_name")
        .order_by("last_name", "first_name", "id")
    )


def _lines(rates: dict, providers: list, counts: dict, period: Period) -> list[Line]:
    lines = []
    for kind in WORK_KINDS:
        rate = rates[kind.rate_field]
        if kind.code == "providers":
            quantity, months = len(providers), period.months
            amount = _round_half_up(quantity * rate * months)
            detail = "; ".join(p.full_name for p in providers)
        else:
            quantity, months, detail = counts[kind.code], Fraction(1), ""
            amount = quantity * rate
        lines.append(Line(kind.code, kind.label, quantity, rate, amount, kind.unit, months, detail))
    return lines


def client_invoice(*, user, period: Period) -> CoordinatorInvoice:
    """Per client organization: the providers managed and the person's work in the period,
    priced with their rate card, each client read under its own scope."""
    clients = require_independent(user)
    card = rate_card(user)
    mfa_missing = any(m.organization.require_mfa for m in clients) and _mfa_missing(user)
    invoices = []
    for membership in clients:
        org = membership.organization
        invoice = ClientInvoice(org=org, membership=membership)
        invoices.append(invoice)
        if org.require_mfa and mfa_missing:
            invoice.blocked = True  # the organization's own rule, as at /o/<slug>/
            continue
        with tenant_context(org, user_id=user.pk):
            invoice.providers = _managed_providers(org, membership)
            counts = _work_counts(org, user, period)
        invoice.overridden = org.pk in card.overrides
        invoice.lines = _lines(card.for_client(org.pk), invoice.providers, counts, period)
        invoice.total_cents = sum(line.amount_cents for line in invoice.lines)
    return CoordinatorInvoice(
        user=user,
        period=period,
        clients=invoices,
        total_cents=sum(c.total_cents for c in invoices),
    )


# --- what the invoice read and exported -----------------------------------------------------------
def client_invoice_record_read(*, invoice: CoordinatorInvoice, via: str) -> None:
    """One list read per client chain naming the providers the invoice shows (none: no event)."""
    from roster.services.providers import provider_list_record_read

    with transaction.atomic():
        for client in invoice.clients:
            if client.providers:
                provider_list_record_read(
                    org=client.org,
                    actor=client.membership,
                    providers=client.providers,
                    part="client_invoice",
                    via=via,
                )


def client_invoice_record_export(*, invoice: CoordinatorInvoice, fmt: str) -> None:
    """`billing.client_invoice.exported` in each client's chain: who, which period, what."""
    actor = Actor.member(invoice.user)
    with transaction.atomic():
        for client in invoice.clients:
            if client.blocked:
                continue
            audit_record(
                org=client.org,
                actor=actor,
                action="billing.client_invoice.exported",
                target_type="credex.organization",
                target_id=str(client.org.pk),
                data={
                    "start": invoice.period.start.isoformat(),
                    "end": invoice.period.end.isoformat(),
                    "format": fmt,
                    "total_cents": client.total_cents,
                    "counts": client.counts,
                    "providers": [str(p.pk) for p in client.providers][:200],
                },
            )
