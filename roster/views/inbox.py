"""The expiry inbox: a worklist of what is due, with per-item and bulk actions (htmx)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from credex import capabilities as cap
from credex import interface as ui
from credex.capabilities import has_capability
from credex.errors import DomainError
from credex.views import capability_required
from roster.models import InboxKind
from roster.selectors import inbox as sel
from roster.selectors.flags import provider_flags_attach
from roster.services import inbox as svc
from roster.services.providers import provider_list_record_read
from roster.views.inbox_forms import InboxActionForm, ReturnQueryForm

PAGE_SIZE = 50
SNOOZE_CHOICES = (7, 14, 30, 60)


UNDO_SESSION_KEY = "inbox_undo"


def _context(request, query: QueryDict, notice: str = "", error: str = "", undo_item=None) -> dict:
    org, membership = request.org, request.membership
    filters = sel.InboxFilters.from_query(query)
    items = sel.inbox_item_list(org=org, filters=filters, membership=membership)
    page = Paginator(items, PAGE_SIZE).get_page(query.get("page"))
    page.object_list = list(page.object_list)
    provider_flags_attach(org=org, providers=[i.provider for i in page.object_list])
    can_change = has_capability(membership.role, cap.CHANGE_ROSTER)
    return {
        "page": page,
        "filters": filters,
        "query": filters.query(),
        "query_string": urlencode({**filters.query(), **_page_of(query)}),
        "counts": sel.inbox_counts(org=org, membership=membership),
        "kinds": InboxKind.choices,
        "statuses": sel.STATUSES,
        "assigned_choices": sel.ASSIGNED,
        "due_choices": sel.DUE_WITHIN,
        "members": sel.assignable_members(org=org) if can_change else [],
        "can_change": can_change,
        "snooze_choices": [(d, timezone.localdate() + timedelta(days=d)) for d in SNOOZE_CHOICES],
        "notice": notice,
        "error": error,
        # the item just resolved or dismissed, for the notice's Undo button
        "undo_item": undo_item,
        "undo_seconds": svc.UNDO_SECONDS,
        "today": timezone.localdate(),
        # each sortable column's link: ascending first, a second click reverses
        "sort_next": {
            col: f"-{col}" if filters.sort == col else col
            for col in ("due", "kind", "provider", "threshold")
        },
    }


def _page_of(query) -> dict:
    return {"page": query["page"]} if query.get("page") else {}


@require_GET
@vary_on_headers("HX-Request")
@capability_required(cap.VIEW_ROSTER)
def inbox(request, org_slug):
    notice, undo_item = _pop_undo(request)
    context = _context(request, request.GET, notice=notice, undo_item=undo_item)
    partial = ui.is_partial(request)
    template = "roster/inbox/_results.html" if partial else "roster/inbox/list.html"
    if context["filters"].errors:
        return render(request, template, context, status=400)
    provider_list_record_read(
        org=request.org,
        actor=request.membership,
        providers=[i.provider_id for i in context["page"].object_list],
        part="inbox",
    )
    return render(request, template, context)


def _pop_undo(request) -> tuple[str, object]:
    """The notice and the item a redirect after "Resolve" offers to undo (no-JS path), once."""
    saved = request.session.pop(UNDO_SESSION_KEY, None) or {}
    try:
        return saved.get("notice", ""), sel.inbox_item_get(org=request.org, item_id=saved["item"])
    except (KeyError, Http404, ValidationError):
        return "", None


def _after_action(request, *, notice: str = "", error: str = "", status: int = 200, undo_item=None):
    """htmx: the refreshed worklist under the same filters; otherwise back to the list."""
    query = ReturnQueryForm(request.POST).query()
    if request.htmx:
        context = _context(request, query, notice=notice, error=error, undo_item=undo_item)
        return render(request, "roster/inbox/_results.html", context, status=status)
    if error:
        messages.error(request, error)
    elif notice and undo_item is not None:
        # the list page shows the notice with its Undo button
        request.session[UNDO_SESSION_KEY] = {"item": str(undo_item.pk), "notice": notice}
    elif notice:
        messages.success(request, notice)
    url = reverse("inbox", kwargs={"org_slug": request.org.slug})
    return redirect(f"{url}?{query.urlencode()}" if query else url)


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def item_action(request, org_slug, item_id, action):
    org, actor = request.org, request.membership
    item = sel.inbox_item_get(org=org, item_id=item_id)
    label = _item_label(item)
    form = InboxActionForm(request.POST, org=org, action=action)
    undo_item = None
    try:
        data = form.checked()
        if action == "undo":
            svc.inbox_item_undo(org=org, actor=actor, item=item)
            notice = f"Re-opened {label}."
        elif action == "snooze":
            item = svc.inbox_item_snooze(org=org, actor=actor, item=item, until=data["days"])
            notice = f"Snoozed {label} until {item.snoozed_until:%-d %b %Y}."
        elif action == "dismiss":
            undo_item = svc.inbox_item_dismiss(
                org=org, actor=actor, item=item, reason=data["reason"]
            )
            notice = f"Dismissed {label}."
        else:
            undo_item = svc.inbox_item_resolve(org=org, actor=actor, item=item, note=data["note"])
            notice = f"Resolved {label}."
    except DomainError as exc:
        ui.raise_http(exc)
        # htmx swaps 400 answers (base.html), so a refused action shows its reason in place.
        return _after_action(request, error=exc.message, status=400)
    return _after_action(request, notice=notice, undo_item=undo_item)


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def bulk(request, org_slug):
    org, actor = request.org, request.membership
    form = InboxActionForm(request.POST, org=org)
    try:
        params = form.service_params()
        action = form.cleaned_data["action"]
        items = sel.inbox_items_by_ids(org=org, ids=form.cleaned_data["items"])
        result = svc.inbox_items_bulk(org=org, actor=actor, items=items, action=action, **params)
    except DomainError as exc:
        ui.raise_http(exc)
        return _after_action(request, error=exc.message, status=400)
    verb = {"snooze": "Snoozed", "dismiss": "Dismissed", "resolve": "Resolved"}.get(
        action, "Assigned"
    )
    notice = f"{verb} {result['done']} item{'s' if result['done'] != 1 else ''}."
    if result["skipped"]:
        notice += f" {result['skipped']} already closed, left as they were."
    return _after_action(request, notice=notice)


def _item_label(item) -> str:
    who = item.provider.full_name if item.provider else ""
    what = item.get_kind_display().lower()
    if item.contract_id:
        who = item.contract.payer.name
    return f"“{what}” for {who}" if who else f"“{what}”"


urlpatterns = [
    path("", inbox, name="inbox"),
    path("bulk/", bulk, name="inbox_bulk"),
    *(
        path(f"<uuid:item_id>/{action}/", item_action, {"action": action}, name=f"inbox_{action}")
        for action in ("snooze", "dismiss", "resolve", "undo")
    ),
]
