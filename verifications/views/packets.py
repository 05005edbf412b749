"""Re-verification packet pages (under /o/<slug>/packets/): the worklist with filters, one
packet's steps, the one-click start from the provider file, cancel, and the bulk launch
for everyone due with a live progress bar.

Reading needs roster.view (every role); starting, cancelling and the bulk launch need
roster.change: an auditor reads and gets 403 on every write.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from credex import capabilities as cap
from credex import interface as ui
from credex.errors import Conflict, DomainError
from credex.services import get_or_404
from credex.views import capability_required
from roster.models import DocumentKind, Provider
from roster.services.providers import provider_list_record_read, provider_record_read
from verifications.forms import PacketBulkForm, ReasonForm
from verifications.models import PacketStatus
from verifications.selectors import packets as selectors
from verifications.services import packets as services

PAGE_SIZE = 25
DUE_CHOICES = {"overdue": "Overdue", "30": "30 days", "90": "90 days", "120": "120 days"}


def _filters(request) -> dict:
    status = request.GET.get("status", "").strip()
    due = request.GET.get("due", "").strip()
    q = request.GET.get("q", "").strip()[:100]
    return {
        "status": status if status in PacketStatus.values else "",
        "due": due if due in DUE_CHOICES else "",
        "q": q,
    }


@require_GET
@capability_required(cap.VIEW_ROSTER)
def packet_list(request, org_slug):
    org = request.org
    filters = _filters(request)
    query = {k: v for k, v in filters.items() if v}
    packets = selectors.packet_list(org=org, **filters)
    page = Paginator(packets, PAGE_SIZE).get_page(request.GET.get("page"))
    provider_list_record_read(
        org=org,
        actor=request.membership,
        providers=[p.provider_id for p in page.object_list],
        part="packets",
    )
    context = {
        "page": page,
        "filters": filters,
        "query": query,
        "counts": selectors.packet_counts(org=org),
        "statuses": PacketStatus.choices,
        "due_choices": DUE_CHOICES,
        "due_now": selectors.providers_due(org=org, days=services.BULK_DUE_DAYS).count(),
        "bulk_days": services.BULK_DUE_DAYS,
        "can_change": ui.can_change(request),
    }
    template = "verifications/packets/list.html"
    if request.htmx and request.htmx.target == "packets-results":
        template = "verifications/packets/_results.html"
    response = render(request, template, context)
    return ui.vary_on_htmx(response)


@require_GET
@capability_required(cap.VIEW_ROSTER)
def packet_detail(request, org_slug, packet_id):
    org = request.org
    packet = selectors.packet_get(org=org, packet_id=packet_id)
    provider_record_read(org=org, actor=request.membership, provider=packet.provider, part="packet")
    steps = selectors.packet_steps(org=org, packet=packet)
    labels = dict(DocumentKind.choices)
    for step in steps:  # document kinds in words on the page
        step.kind_labels = [labels.get(k, k) for k in step.detail.get("kinds", [])]
        step.received_labels = [labels.get(k, k) for k in step.detail.get("received", [])]
    link_url = ""
    if packet.upload_link_id:
        from credex.links import link_state as state_of
        from roster.services.documents.links import upload_link_url

        link_url = upload_link_url(packet.upload_link)
        link_state = state_of(packet.upload_link)
    else:
        link_state = ""
    return render(
        request,
        "verifications/packets/detail.html",
        {
            "packet": packet,
            "provider": packet.provider,
            "steps": steps,
            "step_counts": selectors.step_counts(steps),
            "link_url": link_url,
            "link_state": link_state,
            "can_change": ui.can_change(request),
        },
    )


@require_POST
@capability_required(cap.VIEW_ROSTER)
def packet_start(request, org_slug, provider_id):
    ui.require_change(request)
    org = request.org
    provider = get_or_404(Provider.objects.filter(organization=org), pk=provider_id)
    try:
        packet = services.packet_start(org=org, actor=request.membership, provider=provider)
    except Conflict as exc:
        url = exc.details.get("url")
        if url:
            messages.warning(
                request, format_html('{} <a href="{}">Open the packet</a>.', exc.message, url)
            )
            return redirect(url)
        messages.error(request, exc.message)
        return redirect("provider_detail", org_slug=org.slug, provider_id=provider.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("provider_detail", org_slug=org.slug, provider_id=provider.pk)
    messages.success(
        request,
        f"Re-verification started for {provider.full_name}: checks requested, queue items "
        "opened and the document request sent.",
    )
    return redirect("packet_detail", org_slug=org.slug, packet_id=packet.pk)


@require_POST
@capability_required(cap.VIEW_ROSTER)
def packet_cancel(request, org_slug, packet_id):
    ui.require_change(request)
    org = request.org
    packet = selectors.packet_get(org=org, packet_id=packet_id)
    try:
        services.packet_cancel(
            org=org,
            actor=request.membership,
            packet=packet,
            **ReasonForm(request.POST).values(),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Packet cancelled. Its open queue items stay in the queue.")
    return redirect("packet_detail", org_slug=org.slug, packet_id=packet.pk)


@require_http_methods(["GET", "POST"])
@capability_required(cap.VIEW_ROSTER)
def packet_bulk(request, org_slug):
    org = request.org
    days, error = services.BULK_DUE_DAYS, ""
    if request.method == "POST":
        ui.require_change(request)
        bulk_form = PacketBulkForm(request.POST, default=services.BULK_DUE_DAYS)
        try:
            days = bulk_form.values()["days"]
            job = services.packets_bulk_request(org=org, actor=request.membership, days=days)
        except DomainError as exc:
            error = exc.message
        else:
            return redirect("packets_bulk_status", org_slug=org.slug, job=job["job"])
    due = selectors.providers_due(org=org, days=days if 1 <= days <= 730 else 120)
    return render(
        request,
        "verifications/packets/bulk.html",
        {
            "days": days,
            "due_count": due.count(),
            "due": due.select_related("coordinator__user").order_by(
                "recredentialing_due_date", "last_name"
            )[:50],
            "error": error,
            "can_change": ui.can_change(request),
        },
        status=400 if error else 200,
    )


@require_GET
@capability_required(cap.VIEW_ROSTER)
def packet_bulk_status(request, org_slug, job):
    org = request.org
    progress = selectors.bulk_progress(org=org, bulk_key=job)
    if progress.status == "unknown":
        raise Http404
    context = {"job": job, "progress": progress}
    template = "verifications/packets/bulk_status.html"
    if request.htmx:
        template = "verifications/packets/_bulk_progress.html"
    response = render(request, template, context)
    return ui.vary_on_htmx(response)


urlpatterns = [
    path("", packet_list, name="packets"),
    path("bulk/", packet_bulk, name="packets_bulk"),
    path("bulk/<slug:job>/", packet_bulk_status, name="packets_bulk_status"),
    path("start/<uuid:provider_id>/", packet_start, name="packet_start"),
    path("<uuid:packet_id>/", packet_detail, name="packet_detail"),
    path("<uuid:packet_id>/cancel/", packet_cancel, name="packet_cancel"),
]
