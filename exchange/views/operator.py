"""Operator console (under /operator/exchange/): platform staff only (`operator_required`:
anyone else signed in gets 404, anonymous goes to sign in). Applications and their decisions,
the accreditation standing of every member, trade volume and fees, the ledger's trial
balance. Reads run on the platform path; every decision goes through a membership service,
which enters the applicant organization and audits in its chain and the platform's."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from billing.services import trial_balance
from credex.errors import DomainError
from exchange.selectors import membership as selectors
from exchange.selectors.operator import member_names, trade_volume
from exchange.services import membership as services
from exchange.views._base import operator_required
from roster.services.documents.sniffing import sniff

CHART = {"width": 720, "height": 220, "top": 16, "bottom": 28, "left": 8}


@operator_required
@require_GET
def operator_home(request):
    rows = selectors.operator_applications()
    waiting = [m for m in rows if m.status in ("pending", "info_requested")]
    return render(
        request,
        "exchange/operator/home.html",
        {"section": "applications", "rows": rows, "waiting": waiting},
    )


def _application_context(request, org_id, *, errors=None) -> dict:
    membership, accreditations = selectors.operator_application(org_id)
    if membership is None:
        raise Http404
    return {
        "section": "applications",
        "m": membership,
        "accreditations": accreditations,
        "current": next(
            (
                a
                for a in accreditations
                if a.status in selectors.CURRENT_STATUSES and a.expires_on >= timezone.localdate()
            ),
            None,
        ),
        "errors": errors or {},
    }


@operator_required
@require_GET
@never_cache
def operator_application(request, org_id):
    return render(
        request, "exchange/operator/application.html", _application_context(request, org_id)
    )


def _decision(request, org_id, service, field: str | None, done: str):
    kwargs = {"operator": request.user, "org_id": org_id}
    if field:
        kwargs[field] = request.POST.get(field, "")
    try:
        service(**kwargs)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from exc
        errors = {
            **(exc.details or {}),
            "__all__": exc.message,
            "form": request.POST.get("form", ""),
        }
        context = _application_context(request, org_id, errors=errors)
        context["decision_error"] = exc.message
        context["typed_text"] = request.POST.get(field, "") if field else ""
        return render(request, "exchange/operator/application.html", context, status=exc.status)
    messages.success(request, done)
    return redirect("operator_application", org_id=org_id)


@operator_required
@require_POST
def operator_approve(request, org_id):
    return _decision(request, org_id, services.membership_approve, None, "Application approved.")


@operator_required
@require_POST
def operator_reject(request, org_id):
    return _decision(request, org_id, services.membership_reject, "reason", "Application rejected.")


@operator_required
@require_POST
def operator_request_info(request, org_id):
    return _decision(
        request, org_id, services.membership_request_info, "message", "Information requested."
    )


@operator_required
@require_POST
def operator_suspend(request, org_id):
    return _decision(request, org_id, services.membership_suspend, "reason", "Member suspended.")


@operator_required
@require_POST
def operator_reinstate(request, org_id):
    return _decision(request, org_id, services.membership_reinstate, None, "Member reinstated.")


@operator_required
@require_GET
def operator_evidence(request, org_id, accreditation_id):
    """An application's evidence document (audited), served so a browser cannot run it."""
    accreditation = selectors.operator_accreditation(org_id, accreditation_id)
    if accreditation is None or not accreditation.evidence:
        raise Http404
    services.operator_evidence_read(
        operator=request.user, org_id=org_id, accreditation=accreditation
    )
    data = accreditation.evidence.open("rb").read()
    response = FileResponse(
        iter([data]),
        as_attachment=True,
        filename=accreditation.evidence_name or "evidence",
        content_type=sniff(data).content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@operator_required
@require_GET
def operator_standing(request):
    rows = selectors.operator_standing()
    return render(
        request,
        "exchange/operator/standing.html",
        {"section": "standing", "rows": rows, "lapsed": sum(not r["good_standing"] for r in rows)},
    )


def _bars(rows: list[dict], key: str) -> list[dict]:
    """Bar geometry for the SVG chart (presentation attributes only: no inline style)."""
    c = CHART
    plot_h = c["height"] - c["top"] - c["bottom"]
    slot = (c["width"] - c["left"]) / max(len(rows), 1)
    peak = max((r[key] for r in rows), default=0) or 1
    bars = []
    for i, r in enumerate(rows):
        h = round(plot_h * r[key] / peak, 1)
        x = round(c["left"] + i * slot + slot * 0.15, 1)
        bars.append(
            {
                "x": x,
                "y": round(c["top"] + plot_h - h, 1),
                "w": round(slot * 0.7, 1),
                "h": h,
                "label_x": round(x + slot * 0.35, 1),
                "row": r,
            }
        )
    return bars


@operator_required
@require_GET
def operator_volume(request):
    by = request.GET.get("by") if request.GET.get("by") in ("week", "month") else "week"
    rows = trade_volume(by=by)
    return render(
        request,
        "exchange/operator/volume.html",
        {
            "section": "volume",
            "by": by,
            "rows": rows,
            "bars": _bars(rows, "fee_cents"),
            "chart": CHART,
            "axis_y": CHART["height"] - CHART["bottom"],
            "totals": {
                "orders": sum(r["orders"] for r in rows),
                "price_cents": sum(r["price_cents"] for r in rows),
                "fee_cents": sum(r["fee_cents"] for r in rows),
            },
        },
    )


@operator_required
@require_GET
def operator_ledger(request):
    balance = trial_balance()
    names = member_names()
    accounts = [
        {
            "account": a,
            "owner": names.get(a.organization_id, str(a.organization_id))
            if a.organization_id
            else "CredEx platform",
            "debit_cents": a.balance_cents if a.debit_normal else None,
            "credit_cents": None if a.debit_normal else a.balance_cents,
        }
        for a in balance["accounts"]
    ]
    return render(
        request,
        "exchange/operator/ledger.html",
        {
            "section": "ledger",
            "accounts": accounts,
            "debits_cents": balance["debits_cents"],
            "credits_cents": balance["credits_cents"],
            "balanced": balance["debits_cents"] == balance["credits_cents"],
            "difference_cents": balance["debits_cents"] - balance["credits_cents"],
        },
    )


APP = "applications/<uuid:org_id>/"
urlpatterns = [
    path("", operator_home, name="operator_home"),
    path(APP, operator_application, name="operator_application"),
    path(f"{APP}approve/", operator_approve, name="operator_approve"),
    path(f"{APP}reject/", operator_reject, name="operator_reject"),
    path(f"{APP}request-info/", operator_request_info, name="operator_request_info"),
    path(f"{APP}suspend/", operator_suspend, name="operator_suspend"),
    path(f"{APP}reinstate/", operator_reinstate, name="operator_reinstate"),
    path(
        f"{APP}accreditations/<uuid:accreditation_id>/evidence/",
        operator_evidence,
        name="operator_evidence",
    ),
    path("standing/", operator_standing, name="operator_standing"),
    path("volume/", operator_volume, name="operator_volume"),
    path("ledger/", operator_ledger, name="operator_ledger"),
]
