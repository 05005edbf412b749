"""The roster's blocks of the coordinator's morning dashboard (credex.dashboard composes them;
registered in RosterConfig.ready()): every block in a fixed number of queries.

Each block is one conditional-Count aggregate and, where it lists top items, one small
ordered query with a LIMIT; nothing loops over the roster, so the page costs the same number
of queries for 10 providers as for 5,000 (pinned in tests/test_dashboard.py).
Counts come from the live roster (what is true now); "view all" links open the inbox, which
the daily job fills from the same dates. The PSV block is verifications', the screening block
screening's: roster reads them from the dashboard (as `dash.psv`, `dash.screening`) for its
"start here" list and flags, and imports neither app.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from roster.models import (
    EXPIRING_KINDS,
    Credential,
    Document,
    DocumentStatus,
    InboxKind,
    Provider,
    ProviderStatus,
)
from roster.selectors.inbox import active_q
from roster.services.inbox import CAQH_CYCLE_DAYS, LIVE_CREDENTIALS, TRACKED_PROVIDERS

TOP = 5
WEEKS = 13  # 13 x 7 = 91 days: today and the next 90


def _days(today: date, n: int) -> date:
    return today + timedelta(days=n)


def _live_credentials(org):
    return Credential.objects.filter(
        organization=org,
        kind__in=EXPIRING_KINDS,
        expiry_date__isnull=False,
        status__in=LIVE_CREDENTIALS,
        provider__status__in=TRACKED_PROVIDERS,
    )


def _expiring(org, today: date, top: int = TOP) -> dict:
    """Credentials expired and expiring within 30/60/90 days: one aggregate, one top list."""
    # Every bucket ends by day 90: the bound lets the (organization, expiry_date) index work.
    qs = _live_credentials(org).filter(expiry_date__lte=_days(today, 90))
    counts = qs.aggregate(
        expired=Count("id", filter=Q(expiry_date__lt=today)),
        d30=Count("id", filter=Q(expiry_date__gte=today, expiry_date__lte=_days(today, 30))),
        d60=Count(
            "id", filter=Q(expiry_date__gt=_days(today, 30), expiry_date__lte=_days(today, 60))
        ),
        d90=Count(
            "id", filter=Q(expiry_date__gt=_days(today, 60), expiry_date__lte=_days(today, 90))
        ),
    )
    counts["upcoming"] = counts["d30"] + counts["d60"] + counts["d90"]
    counts["total"] = counts["upcoming"] + counts["expired"]
    counts["top"] = list(qs.select_related("provider").order_by("expiry_date", "id")[:top])
    return counts


def _provider_counts(org, today: date) -> dict:
    """Roster size, re-credentialing, CAQH and applicant counts in one aggregate."""
    tracked = Q(status__in=TRACKED_PROVIDERS)
    recred = "recredentialing_due_date"
    caqh = "caqh_last_attested"
    cycle = CAQH_CYCLE_DAYS
    return Provider.objects.filter(organization=org).aggregate(
        total=Count("id"),
        applicants=Count("id", filter=Q(status=ProviderStatus.APPLICANT)),
        recred_overdue=Count("id", filter=tracked & Q(**{f"{recred}__lt": today})),
        recred_30=Count(
            "id",
            filter=tracked & Q(**{f"{recred}__gte": today, f"{recred}__lte": _days(today, 30)}),
        ),
        recred_60=Count(
            "id",
            filter=tracked
            & Q(**{f"{recred}__gt": _days(today, 30), f"{recred}__lte": _days(today, 60)}),
        ),
        recred_90=Count(
            "id",
            filter=tracked
            & Q(**{f"{recred}__gt": _days(today, 60), f"{recred}__lte": _days(today, 90)}),
        ),
        recred_120=Count(
            "id",
            filter=tracked
            & Q(**{f"{recred}__gt": _days(today, 90), f"{recred}__lte": _days(today, 120)}),
        ),
        # due = last attestation + 120 days
        caqh_overdue=Count("id", filter=tracked & Q(**{f"{caqh}__lt": _days(today, -cycle)})),
        caqh_30=Count(
            "id",
            filter=tracked
            & Q(**{f"{caqh}__gte": _days(today, -cycle), f"{caqh}__lte": _days(today, 30 - cycle)}),
        ),
    )


def _recred(org, today: date, counts: dict) -> dict:
    block = {k.removeprefix("recred_"): v for k, v in counts.items() if k.startswith("recred_")}
    block["upcoming"] = block["30"] + block["60"] + block["90"] + block["120"]
    block["total"] = block["upcoming"] + block["overdue"]
    block["top"] = list(
        Provider.objects.filter(
            organization=org,
            status__in=TRACKED_PROVIDERS,
            recredentialing_due_date__lte=_days(today, 120),
        ).order_by("recredentialing_due_date", "id")[:TOP]
    )
    return block


def _caqh(org, today: date, counts: dict) -> dict:
    block = {"overdue": counts["caqh_overdue"], "30": counts["caqh_30"]}
    block["total"] = block["overdue"] + block["30"]
    top = list(
        Provider.objects.filter(
            organization=org,
            status__in=TRACKED_PROVIDERS,
            caqh_last_attested__lte=_days(today, 30 - CAQH_CYCLE_DAYS),
        ).order_by("caqh_last_attested", "id")[:TOP]
    )
    for provider in top:
        provider.caqh_due = provider.caqh_last_attested + timedelta(days=CAQH_CYCLE_DAYS)
    block["top"] = top
    return block


def _documents(org, now) -> dict:
    since = now - timedelta(hours=24)
    qs = Document.objects.filter(organization=org, created_at__gte=since)
    block = qs.aggregate(
        count=Count("id"), pending=Count("id", filter=Q(status=DocumentStatus.PENDING_REVIEW))
    )
    block["top"] = list(qs.select_related("provider").order_by("-created_at", "id")[:TOP])
    return block


def _chart(org, today: date) -> dict:
    """Credentials expiring per week for the next 90 days, as SVG geometry and a table."""
    per_day = (
        _live_credentials(org)
        .filter(expiry_date__gte=today, expiry_date__lte=_days(today, WEEKS * 7 - 1))
        .values("expiry_date")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = [0] * WEEKS
    for row in per_day:
        counts[(row["expiry_date"] - today).days // 7] += row["n"]
    peak = max(counts) or 1
    width, height, top_pad, bottom_pad, gap = 52, 160, 36, 38, 12
    bars = []
    for week, count in enumerate(counts):
        start = _days(today, week * 7)
        end = _days(today, week * 7 + 6)
        h = round((height - top_pad - bottom_pad) * count / peak) if count else 0
        within_30 = (end - today).days <= 30
        bars.append(
            {
                "start": start,
                "end": end,
                "count": count,
                "x": week * width + gap / 2,
                "w": width - gap,
                "cx": week * width + width / 2,
                "y": height - bottom_pad - h,
                "h": h,
                "css": "bar-30" if within_30 else "bar-90",
                "band": "Within 30 days" if within_30 else "31–90 days",
            }
        )
    last_30 = max((i for i, b in enumerate(bars) if b["css"] == "bar-30"), default=-1)
    return {
        "bars": bars,
        "total": sum(counts),
        "width": WEEKS * width,
        "height": height,
        "baseline": height - bottom_pad,
        "split_x": (last_30 + 1) * width,
    }


def _mine(org, membership, today: date) -> dict:
    from roster.models import InboxItem

    if membership is None:
        return {"active": 0, "overdue": 0}
    active = active_q(today)
    return InboxItem.objects.filter(organization=org, assigned_to=membership).aggregate(
        active=Count("id", filter=active),
        overdue=Count("id", filter=active & Q(due_date__lte=today)),
        due_30=Count("id", filter=active & Q(due_date__lte=_days(today, 30))),
    )


def _inbox_url(org, **query) -> str:
    from urllib.parse import urlencode

    url = reverse("inbox", kwargs={"org_slug": org.slug})
    return f"{url}?{urlencode(query)}" if query else url


def _n(count: int, word: str, plural: str = "") -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _start_here(org, d) -> list[dict]:
    """The three most pressing things today, in a fixed order of urgency."""
    e, r, c, en, docs = d.expiring, d.recred, d.caqh, d.enrollments, d.documents
    psv = d.psv or {"overdue": 0, "count": 0}
    en = en or {"overdue": 0}  # the enrollment app's block (None when it is not installed)
    ce, re_ = InboxKind.CREDENTIAL_EXPIRY, InboxKind.RECREDENTIALING
    slug = {"org_slug": org.slug}
    candidates = []
    if en.get("excluded_providers"):
        n = en["excluded_providers"]
        candidates.append(
            (
                n,
                f"Withdraw the enrollments of {_n(n, 'excluded provider')}",
                f"{_n(n, 'provider')} with a confirmed exclusion "
                f"{'has' if n == 1 else 'have'} open enrollments.",
                reverse("enrollments", kwargs=slug) + "?excluded=1",
            )
        )
    if d.screening and d.screening.get("to_review"):
        n = d.screening["to_review"]
        candidates.append(
            (
                n,
                f"Review {_n(n, 'possible exclusion match', 'possible exclusion matches')}",
                "An excluded provider cannot bill federal programs.",
                d.screening.get("url") or reverse("screening", kwargs=slug),
            )
        )
    candidates += [
        (
            e["expired"],
            f"Renew {_n(e['expired'], 'expired credential')}",
            "Providers with an expired licence, DEA or malpractice cover must not practise.",
            _inbox_url(org, kind=ce, due_within="overdue"),
        ),
        (
            r["overdue"],
            f"Re-credential {_n(r['overdue'], 'overdue provider')}",
            f"Their {org.recredentialing_cycle_months}-month cycle has ended.",
            _inbox_url(org, kind=re_, due_within="overdue"),
        ),
        (
            e["d30"],
            f"Chase {_n(e['d30'], 'credential')} expiring within 30 days",
            "Ask for the renewal now; boards can take weeks.",
            _inbox_url(org, kind=ce, due_within="30"),
        ),
        (
            en["overdue"],
            f"Follow up {_n(en['overdue'], 'payer enrollment')}",
            "Their follow-up date has passed.",
            reverse("enrollments", kwargs=slug),
        ),
        (
            r["30"],
            f"Start re-credentialing {_n(r['30'], 'provider')} due within 30 days",
            "Gather the file for the next committee.",
            _inbox_url(org, kind=re_, due_within="30"),
        ),
        (
            docs["pending"],
            f"Review {_n(docs['pending'], 'new document')}",
            "Uploaded in the last 24 hours and waiting for review.",
            reverse("documents_review", kwargs=slug),
        ),
        (
            c["total"],
            f"Remind {_n(c['total'], 'provider')} to re-attest in CAQH",
            "Attestation is due every 120 days.",
            _inbox_url(org, kind=InboxKind.CAQH),
        ),
        (
            psv["overdue"],
            f"Chase {_n(psv['overdue'], 'overdue verification request')}",
            "A board or institution has not answered by the due date.",
            reverse("psv_queue", kwargs=slug) + "?status=overdue",
        ),
        (
            psv["count"],
            f"Verify {_n(psv['count'], 'credential or check', 'credentials and checks')}",
            "Primary-source verification before committee, most urgent first.",
            reverse("psv_queue", kwargs=slug),
        ),
    ]
    picks = [(n, title, detail, url) for n, title, detail, url in candidates if n]
    return [{"title": t, "detail": detail, "url": url} for _, t, detail, url in picks[:3]]


def _attach_flags(org, d, today: date) -> list:
    """Every provider named in a block gets its flags (one call, a fixed number of queries);
    the PSV block's providers have theirs from the queue selector."""
    from roster.selectors.flags import provider_flags_attach

    providers = [c.provider for c in d.expiring.get("top", [])]
    providers += d.recred.get("top", []) + d.caqh.get("top", [])
    providers += [row["enrollment"].provider for row in (d.enrollments or {}).get("top", [])]
    providers += [doc.provider for doc in d.documents.get("top", [])]
    providers += [hit["provider"] for hit in (d.screening or {}).get("top", [])]
    provider_flags_attach(org=org, providers=providers, today=today)
    return providers


def dashboard_blocks_register() -> None:
    """Register the roster's blocks with credex.dashboard (RosterConfig.ready()); the orders
    interleave with verifications' psv (50) and screening's screening (65)."""
    from credex.dashboard import block_register

    blocks = {
        "counts": (10, lambda org, today, **_: _provider_counts(org, today)),
        "providers": (15, lambda dash, **_: dash.counts["total"]),
        "expiring": (20, lambda org, today, **_: _expiring(org, today)),
        "recred": (30, lambda org, today, dash, **_: _recred(org, today, dash.counts)),
        "caqh": (40, lambda org, today, dash, **_: _caqh(org, today, dash.counts)),
        "documents": (70, lambda org, **_: _documents(org, timezone.now())),
        "chart": (75, lambda org, today, **_: _chart(org, today)),
        "mine": (80, lambda org, membership, today, **_: _mine(org, membership, today)),
        "start_here": (900, lambda org, dash, **_: _start_here(org, dash)),
        "flagged": (910, lambda org, today, dash, **_: _attach_flags(org, dash, today)),
    }
    for name, (order, build) in blocks.items():
        block_register(name, order=order, build=build)


# --- the independent coordinator's cross-organization view ---------------------------------

CROSS_ORG_ROWS = 25


def _mfa_missing(user) -> bool:
    from allauth.mfa.models import Authenticator

    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def cross_org_expiring(*, user, today: date | None = None) -> list[dict]:
    """Expiring credentials in each organization the user belongs to.

    Each organization is read inside its own tenant_context (ORM scope and RLS setting), one
    after the other: never a query that spans organizations.
    """
    from credex.selectors import memberships_for_user
    from credex.tenancy import tenant_context

    today = today or timezone.localdate()
    memberships = memberships_for_user(user)
    mfa_missing = any(m.organization.require_mfa for m in memberships) and _mfa_missing(user)
    groups = []
    for membership in memberships:
        org = membership.organization
        group = {"org": org, "membership": membership, "blocked": False}
        if org.require_mfa and mfa_missing:
            group["blocked"] = True  # the organization's own rule, as at /o/<slug>/
            groups.append(group)
            continue
        with tenant_context(org, user_id=user.pk):
            group.update(_expiring(org, today, top=CROSS_ORG_ROWS))
        groups.append(group)
    return groups
