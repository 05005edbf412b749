"""Reads of the PSV queue: what still needs a primary-source verification, most urgent first.

An element is a credential of a PSV kind (licence, DEA, CDS, board certification, malpractice,
education, training, work history, privileges) or a provider-level check (NPPES, OIG, SAM) of
a provider who is an applicant or active, with no current, verified record inside the
organization's validity window. The queue is one SQL UNION of annotated querysets (credentials,
then one per provider-level check), filtered and ordered in the database, so a page costs the
same few queries for 50 providers as for 5,000; the page's rows are then hydrated with three
`in` queries (providers, credentials, requests).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from django.db.models import (
    CharField,
    DateField,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    UUIDField,
    Value,
)
from django.db.models.functions import Least
from django.utils import timezone

from credex.services import get_or_404
from roster.models import Credential, Provider, ProviderStatus
from roster.selectors.flags import provider_flags_attach
from verifications.models import (
    OPEN_REQUEST_STATUSES,
    Verification,
    VerificationEvidence,
    VerificationRequest,
    VerificationSource,
)
from verifications.selectors.records import valid_verifications
from verifications.sources import PROVIDER_CHECKS, SOURCE_FOR_KIND, board_for, licence_type_of

QUEUE_PROVIDERS = (ProviderStatus.APPLICANT, ProviderStatus.ACTIVE)
STATUSES = {
    "needs": "Needs verification",
    "requested": "Requested, awaiting reply",
    "overdue": "Follow-up overdue",
}
COLUMNS = (
    "row_credential",
    "row_provider",
    "row_source",
    "row_state",
    "row_expiry",
    "row_meeting",
    "row_recred",
    "row_urgency",
    "row_request",
    "row_req_status",
    "row_req_due",
    "row_assigned",
    "row_last_name",
    "row_first_name",
)


@dataclass
class QueueItem:
    """One element to verify, ready for a template or a serializer."""

    provider: Provider
    credential: Credential | None
    source: str
    source_state: str
    urgency: date | None
    meeting: date | None
    expiry: date | None
    recred: date | None
    request: VerificationRequest | None
    today: date

    @property
    def key(self) -> str:
        """A stable id for the element (checkboxes, DOM ids): provider:credential:source."""
        return f"{self.provider.pk}:{self.credential.pk if self.credential else '-'}:{self.source}"

    @property
    def dom_id(self) -> str:
        return "q-" + self.key.replace(":", "-")

    @property
    def source_label(self) -> str:
        label = VerificationSource(self.source).label
        if self.source == VerificationSource.STATE_BOARD:
            board = self.board
            return board.name if board else f"{self.source_state} licensing board"
        return label

    @property
    def board(self):
        """The board of the licence's state and type (a CRNA's: the nursing board)."""
        if self.source == VerificationSource.STATE_BOARD:
            licence_type = (
                licence_type_of(self.credential, self.provider)
                if self.credential is not None
                else self.provider.provider_type
            )
            return board_for(self.source_state, licence_type)
        return None

    @property
    def element_label(self) -> str:
        if self.credential is None:
            return VerificationSource(self.source).label + " check"
        c = self.credential
        text = c.get_kind_display()
        if c.number:
            text += f" {c.number}"
        if c.state:
            text += f" ({c.state})"
        return text

    @property
    def urgency_kind(self) -> str:
        """'expires' when the urgent date is the credential's expiry, else 'due' (for due_badge)."""
        if self.expiry and self.urgency == self.expiry and self.urgency != self.meeting:
            return "expires"
        return "due"

    @property
    def status(self) -> str:
        if self.request is None or self.request.status == "open":
            return "needs"
        if self.request.due_date and self.request.due_date < self.today:
            return "overdue"
        return "requested"

    @property
    def reason(self) -> str:
        """Why it is urgent: the earliest of committee, expiry and re-credentialing."""
        if self.urgency is None:
            return "Applicant" if self.provider.status == "applicant" else "Not yet verified"
        days = (self.urgency - self.today).days
        if self.meeting and self.urgency == self.meeting:
            return f"Committee {self.meeting:%-d %b}"
        if self.expiry and self.urgency == self.expiry:
            if days < 0:
                return f"Expired {-days} day{'s' if days != -1 else ''} ago"
            return (
                "Expires today" if days == 0 else f"Expires in {days} day{'s' if days != 1 else ''}"
            )
        if days < 0:
            return f"Re-credentialing overdue by {-days} day{'s' if days != -1 else ''}"
        return f"Re-credentialing due in {days} day{'s' if days != 1 else ''}"


# The open request and the waiting committee review are LEFT JOINs (hash joins over the whole
# queue), not correlated subqueries: per-row subqueries cost ~5 index probes for each of the
# ~50,000 rows of a 5,000-provider roster. At most one row joins: the partial unique
# constraint allows one open request per element (a credential's source follows from its kind,
# services.queue checks it), and the committee service keeps one waiting review per provider.
def _open_request_join(prefix: str, **condition) -> FilteredRelation:
    return FilteredRelation(
        prefix,
        condition=Q(**{f"{prefix}__status__in": OPEN_REQUEST_STATUSES})
        & Q(**{f"{prefix}__{k}": v for k, v in condition.items()}),
    )


def _waiting_review_join(prefix: str) -> FilteredRelation:
    return FilteredRelation(
        prefix,
        condition=Q(**{f"{prefix}__decision": "", f"{prefix}__meeting_date__isnull": False}),
    )


def _request_columns() -> dict:
    return {
        "row_request": F("open_request__id"),
        "row_req_status": F("open_request__status"),
        "row_req_due": F("open_request__due_date"),
        "row_assigned": F("open_request__assigned_to_id"),
    }


def _credential_part(org, today: date, source: str):
    from django.db.models import Case, When

    kinds = [k for k, s in SOURCE_FOR_KIND.items() if not source or s == source]
    if not kinds:
        return None
    valid = valid_verifications(org=org, decision_date=today)
    source_case = Case(
        *[When(kind=k, then=Value(str(s))) for k, s in SOURCE_FOR_KIND.items()],
        output_field=CharField(),
    )
    qs = (
        Credential.objects.filter(
            organization=org, kind__in=kinds, provider__status__in=QUEUE_PROVIDERS
        )
        .exclude(status__in=("inactive", "expired"))
        # An expired credential needs its renewal first (the expiry inbox asks for it); the
        # renewal, once entered, joins the queue.
        .filter(Q(expiry_date__isnull=True) | Q(expiry_date__gte=today))
        .annotate(
            row_credential=F("pk"),
            row_provider=F("provider_id"),
            row_source=source_case,
            row_state=Case(
                When(kind__in=("state_license", "cds"), then=F("state")),
                default=Value(""),
                output_field=CharField(),
            ),
            row_expiry=F("expiry_date"),
        )
        .annotate(has_valid=Exists(valid.filter(credential=OuterRef("pk"))))
        .filter(has_valid=False)
        .annotate(
            open_request=_open_request_join("verification_requests"),
            waiting_review=_waiting_review_join("provider__committee_reviews"),
        )
        .annotate(
            row_meeting=F("waiting_review__meeting_date"),
            row_recred=F("provider__recredentialing_due_date"),
            **_request_columns(),
        )
    )
    return qs.annotate(
        row_urgency=Least("row_meeting", "row_expiry", "row_recred"),
        row_last_name=F("provider__last_name"),
        row_first_name=F("provider__first_name"),
    )


def _provider_part(org, today: date, check: str):
    valid = valid_verifications(org=org, decision_date=today)
    qs = (
        Provider.objects.filter(organization=org, status__in=QUEUE_PROVIDERS)
        .annotate(
            row_credential=Value(None, output_field=UUIDField()),
            row_provider=F("pk"),
            row_source=Value(str(check), output_field=CharField()),
            row_state=Value("", output_field=CharField()),
            row_expiry=Value(None, output_field=DateField()),
        )
        .annotate(
            has_valid=Exists(
                valid.filter(provider=OuterRef("pk"), source=check, credential__isnull=True)
            )
        )
        .filter(has_valid=False)
        .annotate(
            open_request=_open_request_join(
                "verification_requests", credential__isnull=True, source=str(check)
            ),
            waiting_review=_waiting_review_join("committee_reviews"),
        )
        .annotate(
            row_meeting=F("waiting_review__meeting_date"),
            row_recred=F("recredentialing_due_date"),
            **_request_columns(),
        )
    )
    return qs.annotate(
        row_urgency=Least("row_meeting", "row_recred"),
        row_last_name=F("last_name"),
        row_first_name=F("first_name"),
    )


def clean_filters(params) -> dict:
    """The queue's URL filters, with unknown values dropped."""
    source = params.get("source", "")
    status = params.get("status", "")
    coordinator = params.get("coordinator", "")
    try:
        coordinator = str(uuid.UUID(coordinator)) if coordinator else ""
    except ValueError:
        coordinator = ""
    return {
        "source": source if source in VerificationSource.values else "",
        "status": status if status in STATUSES else "",
        "coordinator": coordinator,
        "q": (params.get("q", "") or "").strip()[:100],
    }


def _filter_part(qs, *, status: str, coordinator: str, q: str, today: date, provider_path: str):
    if status == "needs":
        qs = qs.filter(Q(row_req_status__isnull=True) | Q(row_req_status="open"))
    elif status == "requested":
        qs = qs.filter(row_req_status="requested")
    elif status == "overdue":
        qs = qs.filter(row_req_status="requested", row_req_due__lt=today)
    if coordinator:
        qs = qs.filter(
            Q(**{f"{provider_path}coordinator_id": coordinator}) | Q(row_assigned=coordinator)
        )
    if q:
        qs = qs.filter(
            Q(**{f"{provider_path}last_name__icontains": q})
            | Q(**{f"{provider_path}first_name__icontains": q})
            | Q(**{f"{provider_path}npi": q})
        )
    return qs


def queue_rows(
    *,
    org,
    source: str = "",
    status: str = "",
    coordinator: str = "",
    q: str = "",
    provider=None,
    today: date | None = None,
) -> QuerySet:
    """The queue as one ordered UNION of value rows (paginate it, then `queue_items`)."""
    today = today or timezone.localdate()
    parts = []
    cred = _credential_part(org, today, source)
    if cred is not None:
        parts.append((cred, "provider__"))
    for check in PROVIDER_CHECKS:
        if not source or source == check:
            parts.append((_provider_part(org, today, check), ""))
    built = []
    for qs, path in parts:
        if provider is not None:
            qs = qs.filter(**({"provider": provider} if path else {"pk": provider.pk}))
        qs = _filter_part(
            qs, status=status, coordinator=coordinator, q=q, today=today, provider_path=path
        )
        built.append(qs.values(*COLUMNS).order_by())
    if not built:
        # A source no element of the queue is verified at (NPDB): nothing, in the rows' shape
        # (a bare Credential queryset has none of the row_ columns to select). Not .none():
        # queue_counts compiles the query to SQL, which an empty queryset cannot be.
        return _credential_part(org, today, "").filter(pk__isnull=True).values(*COLUMNS)
    union = built[0].union(*built[1:], all=True) if len(built) > 1 else built[0]
    return union.order_by(
        F("row_urgency").asc(nulls_last=True), "row_last_name", "row_first_name", "row_source"
    )


def queue_items(*, org, rows, today: date | None = None) -> list[QueueItem]:
    """Turn a page of `queue_rows` into QueueItems with three `in` queries."""
    today = today or timezone.localdate()
    rows = list(rows)
    # Always three queries, even when a page has no credential or no request: the dashboard's
    # and the queue page's query counts must not depend on what the rows happen to be (an
    # empty `in` list would skip the query). The nil UUID matches nothing.
    nil = [uuid.UUID(int=0)]
    provider_ids = list({r["row_provider"] for r in rows}) or nil
    credential_ids = list({r["row_credential"] for r in rows if r["row_credential"]}) or nil
    request_ids = list({r["row_request"] for r in rows if r["row_request"]}) or nil
    by_provider = {
        p.pk: p
        for p in Provider.objects.filter(organization=org, pk__in=provider_ids).select_related(
            "coordinator__user"
        )
    }
    by_credential = {
        c.pk: c for c in Credential.objects.filter(organization=org, pk__in=credential_ids)
    }
    by_request = {
        r.pk: r
        for r in VerificationRequest.objects.filter(
            organization=org, pk__in=request_ids
        ).select_related("assigned_to__user")
    }
    provider_flags_attach(org=org, providers=by_provider.values(), today=today)
    return [
        QueueItem(
            provider=by_provider[r["row_provider"]],
            credential=by_credential.get(r["row_credential"]),
            source=r["row_source"],
            source_state=r["row_state"] or "",
            urgency=r["row_urgency"],
            meeting=r["row_meeting"],
            expiry=r["row_expiry"],
            recred=r["row_recred"],
            request=by_request.get(r["row_request"]),
            today=today,
        )
        for r in rows
        if r["row_provider"] in by_provider
    ]


def queue_counts(*, org, source: str = "", coordinator: str = "", q: str = "", today=None) -> dict:
    """Counts per status tab for the heading and tabs, in one query over the queue."""
    from django.db import connection

    today = today or timezone.localdate()
    rows = queue_rows(org=org, source=source, coordinator=coordinator, q=q, today=today)
    sql, params = rows.order_by().query.sql_with_params()
    # One pass over the UNION instead of one COUNT per tab (each would rebuild the queue).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FILTER (WHERE row_req_status IS NULL OR row_req_status = 'open'),"
            " COUNT(*) FILTER (WHERE row_req_status = 'requested'),"
            " COUNT(*) FILTER (WHERE row_req_status = 'requested' AND row_req_due < %s)"
            f" FROM ({sql}) AS queue",
            [today, *params],  # the outer placeholder comes first in the text
        )
        needs, requested, overdue = cursor.fetchone()
    # "needs" and "requested" partition the queue; "overdue" is a subset of "requested".
    return {"needs": needs, "requested": requested, "overdue": overdue, "all": needs + requested}


def queue_item_for(*, org, provider, credential=None, source: str = "", today=None) -> QueueItem:
    """One element (queued or not) for the record form: the provider's credential or check."""
    today = today or timezone.localdate()
    if credential is not None:
        source = source or SOURCE_FOR_KIND.get(credential.kind, "")
        state = credential.state if source == VerificationSource.STATE_BOARD else ""
        expiry = credential.expiry_date
    else:
        state, expiry = "", None
    request = open_request_for(org=org, provider=provider, credential=credential, source=source)
    return QueueItem(
        provider=provider,
        credential=credential,
        source=source,
        source_state=state,
        urgency=None,
        meeting=None,
        expiry=expiry,
        recred=provider.recredentialing_due_date,
        request=request,
        today=today,
    )


def open_request_for(*, org, provider, credential=None, source: str) -> VerificationRequest | None:
    """The open (or requested) request for a credential or provider-level check, if any."""
    return (
        VerificationRequest.objects.filter(
            organization=org,
            provider=provider,
            credential=credential,
            source=source,
            status__in=OPEN_REQUEST_STATUSES,
        )
        .select_related("assigned_to__user")
        .first()
    )


def request_get(*, org, request_id) -> VerificationRequest:
    """One request of the organization, or NotFound."""
    return get_or_404(
        VerificationRequest.objects.filter(organization=org).select_related(
            "provider", "credential", "assigned_to__user"
        ),
        pk=request_id,
    )


def verification_get(*, org, verification_id) -> Verification:
    """One PSV record of the organization (with its superseded flag), or NotFound."""
    corrected = Verification.objects.filter(supersedes=OuterRef("pk"))
    return get_or_404(
        Verification.objects.filter(organization=org)
        .annotate(is_superseded=Exists(corrected))
        .select_related("provider", "credential", "verifier_user", "supersedes")
        .prefetch_related("evidence"),
        pk=verification_id,
    )


def evidence_get(*, org, evidence_id) -> VerificationEvidence:
    """One evidence file of the organization, or NotFound."""
    return get_or_404(
        VerificationEvidence.objects.filter(organization=org).select_related("verification"),
        pk=evidence_id,
    )


def dashboard_block(*, org, today: date | None = None, top: int = 5) -> dict:
    """The dashboard's PSV block: the queue's size, overdue follow-ups, the top items."""
    from django.db import connection

    today = today or timezone.localdate()
    sql, params = queue_rows(org=org, today=today).order_by().query.sql_with_params()
    # One pass: the counts as window aggregates over the whole queue beside its top rows (a
    # top-N sort), instead of one query for the counts and another for the rows.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(COLUMNS)}, COUNT(*) OVER (),"
            " COUNT(*) FILTER (WHERE row_req_status = 'requested' AND row_req_due < %s) OVER ()"
            f" FROM ({sql}) AS queue"
            " ORDER BY row_urgency ASC NULLS LAST, row_last_name, row_first_name, row_source"
            " LIMIT %s",
            [today, *params, top],
        )
        fetched = cursor.fetchall()
    rows = [dict(zip(COLUMNS, r[: len(COLUMNS)], strict=True)) for r in fetched]
    count, overdue = (fetched[0][-2], fetched[0][-1]) if fetched else (0, 0)
    items = queue_items(org=org, rows=rows, today=today)
    return {"count": count, "overdue": overdue, "top": items}


def dashboard_psv_block(*, org, today: date, dash, **_) -> dict:
    """The PSV block as credex.dashboard builds it: the queue, and the roster's applicants
    (from the roster's counts block, built before it)."""
    block = dashboard_block(org=org, today=today, top=5)
    block["applicants"] = (dash.counts or {}).get("applicants", 0)
    return block
