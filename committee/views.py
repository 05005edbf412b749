"""Committee pages: the ready queue, a meeting's agenda, recording decisions, the "notify the
provider" tracker, and a provider's committee history (fragment and page)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from committee import selectors as sel
from committee import services as svc
from committee.forms import DecisionForm, MarkReadyForm, NotifiedForm, ScheduleForm
from committee.models import CommitteeDecision
from credex import capabilities as cap
from credex import interface as ui
from credex.errors import DomainError
from credex.views import capability_required
from roster.selectors.flags import provider_flags_attach
from roster.selectors.providers import provider_choices, provider_get
from roster.services.providers import provider_list_record_read, provider_record_read


def _parse_date(value: str) -> tuple[date | None, bool]:
    """(date, ok); an empty value is (None, True)."""
    value = (value or "").strip()
    if not value:
        return None, True
    try:
        return date.fromisoformat(value), True
    except ValueError:
        return None, False


def _decorate(reviews, today: date):
    """Presentation values: when the provider must be told, and whether that is late."""
    for r in reviews:
        r.notify_due = sel.notify_due_date(r)
        r.notify_overdue = bool(r.notify_due and not r.notified_at and r.notify_due < today)
    return reviews


def _file_summary(provider, today: date) -> dict:
    """The file at a glance: one line per credential kind (how many, states, the expiry that
    matters: the soonest still current, else the latest passed)."""
    groups: dict[str, dict] = {}
    for c in provider.credentials.all():
        group = groups.setdefault(
            c.kind, {"label": c.get_kind_display(), "count": 0, "states": [], "expiries": []}
        )
        group["count"] += 1
        if c.state and c.state not in group["states"]:
            group["states"].append(c.state)
        if c.expiry_date:
            group["expiries"].append(c.expiry_date)
    for group in groups.values():
        current = [d for d in group["expiries"] if d >= today]
        group["expiry"] = min(current) if current else max(group["expiries"], default=None)
    return {"kinds": sorted(groups.values(), key=lambda g: g["label"])}


# --- the committee page -------------------------------------------------------------------------
@require_GET
@capability_required(cap.VIEW_ROSTER)
def committee_home(request, org_slug):
    org = request.org
    today = timezone.localdate()
    meetings = sel.committee_meeting_dates(org=org, today=today)
    meeting, ok = _parse_date(request.GET.get("meeting", ""))
    if meeting is None and meetings:
        meeting = meetings[0]["meeting_date"]
    queue = _decorate(list(sel.committee_queue(org=org)), today)
    agenda = []
    if meeting:
        agenda = _decorate(list(sel.committee_agenda(org=org, meeting_date=meeting)), today)
    for r in [*queue, *agenda]:
        r.file = _file_summary(r.provider, today)
    notify = _decorate(list(sel.committee_notifications_pending(org=org)), today)
    recent = _decorate(list(sel.committee_recent_decisions(org=org)), today)
    shown = [*queue, *agenda, *notify, *recent]
    provider_flags_attach(org=org, providers=[r.provider for r in shown])
    # The reviews shown (queue, agenda, notifications, recent decisions) are provider data; the
    # "mark ready" select lists names only and is not counted.
    provider_list_record_read(
        org=org,
        actor=request.membership,
        providers=[r.provider_id for r in shown],
        part="committee",
    )
    context = {
        "queue": queue,
        "meetings": meetings,
        "meeting": meeting,
        "meeting_error": "" if ok else "Enter a meeting date like 2026-05-14.",
        "agenda": agenda,
        "notify": notify,
        "notify_overdue": sum(1 for r in notify if r.notify_overdue),
        "recent": recent,
        "providers": provider_choices(org=org) if ui.can_change(request) else [],
        "can_change": ui.can_change(request),
        "today": today,
        "ready_form": {},
        "ready_errors": {},
        "notify_within": sel.NOTIFY_WITHIN_DAYS,
    }
    return render(request, "roster/committee/home.html", context)


@require_POST
@vary_on_headers("HX-Request")
@capability_required(cap.CHANGE_ROSTER)
def committee_mark_ready(request, org_slug):
    """Mark a provider file ready (from the committee page or the provider fragment)."""
    org = request.org
    ready_form = MarkReadyForm(request.POST, org=org)
    valid = ready_form.is_valid()
    provider = ready_form.cleaned_data.get("provider")
    errors: dict = {}
    reasons: list[str] = []
    if provider is None:
        errors["provider"] = ready_form.errors["provider"][0]
    elif not valid:
        errors = ui.form_errors(ready_form)
    else:
        try:
            svc.provider_mark_ready_for_committee(
                org=org,
                actor=request.membership,
                provider=provider,
                meeting_date=ready_form.cleaned_data["meeting_date"],
            )
        except DomainError as exc:
            reasons = list(exc.details.get("reasons", []))
            errors = ui.form_errors(exc, strings_only=True)
    if ui.is_partial(request) and provider is not None:
        return _provider_fragment(
            request,
            provider,
            errors=errors,
            reasons=reasons,
            status=400 if errors else 200,
            done="" if errors else "Marked ready for committee.",
        )
    fallback = reverse("committee", kwargs={"org_slug": org.slug})
    if errors:
        message = errors.get("__all__") or next(iter(errors.values()))
        if reasons:
            message += " " + " ".join(reasons)
        messages.error(request, message)
        return redirect(ui.safe_next(request, fallback))
    messages.success(request, f"{provider.full_name} is in the committee queue.")
    return redirect(ui.safe_next(request, fallback))


@require_POST
@capability_required(cap.CHANGE_ROSTER)
def committee_schedule(request, org_slug, review_id):
    review = sel.committee_review_get(org=request.org, review_id=review_id)
    schedule_form = ScheduleForm(request.POST)
    url = reverse("committee", kwargs={"org_slug": request.org.slug})
    if not schedule_form.is_valid():
        messages.error(request, schedule_form.errors["meeting_date"][0])
        return redirect(url)
    meeting = schedule_form.cleaned_data["meeting_date"]
    try:
        svc.committee_schedule(
            org=request.org, actor=request.membership, review=review, meeting_date=meeting
        )
    except DomainError as exc:
        messages.error(request, exc.details.get("meeting_date") or exc.message)
        return redirect(url)
    if meeting:
        messages.success(
            request, f"{review.provider.full_name} is on the agenda for {meeting:%d %b %Y}."
        )
        return redirect(f"{url}?meeting={meeting.isoformat()}#agenda")
    messages.success(request, f"{review.provider.full_name} was taken off the agenda.")
    return redirect(url)


@require_http_methods(["GET", "POST"])
@capability_required(cap.VIEW_ROSTER)
def committee_review(request, org_slug, review_id):
    """One review: the file summary and (for roster.change) the decision form."""
    today = timezone.localdate()
    review = sel.committee_review_get(org=request.org, review_id=review_id)
    held = review.meeting_date if review.meeting_date and review.meeting_date <= today else None
    form = {
        "decision": "",
        "decision_date": (held or today).isoformat(),
        "conditions": "",
        "minutes": "",
    }
    errors: dict = {}
    if request.method == "POST":
        ui.require_change(request)
        decision_form = DecisionForm(request.POST)
        form = decision_form.typed()
        if not decision_form.is_valid():
            errors = ui.form_errors(decision_form)
        else:
            values = decision_form.cleaned_data
            try:
                svc.committee_record_decision(
                    org=request.org,
                    actor=request.membership,
                    review=review,
                    decision=values["decision"],
                    decision_date=values["decision_date"],
                    minutes=values["minutes"],
                    conditions=values["conditions"],
                )
            except DomainError as exc:
                errors = ui.form_errors(exc, strings_only=True)
        if not errors:
            messages.success(
                request,
                f"Decision recorded for {review.provider.full_name}: "
                f"{review.get_decision_display().lower()}. Notify the provider by "
                f"{sel.notify_due_date(review):%d %b %Y}.",
            )
            return redirect(reverse("committee", kwargs={"org_slug": request.org.slug}) + "#notify")
    context = {
        "review": _decorate([review], today)[0],
        "file": _file_summary(review.provider, today),
        "readiness": sel.provider_readiness(org=request.org, provider=review.provider, today=today),
        "history": _decorate(
            list(sel.committee_reviews_for_provider(org=request.org, provider=review.provider)),
            today,
        ),
        "decisions": CommitteeDecision.choices,
        "form": form,
        "errors": errors,
        "top_error": errors.get("__all__", ""),
        "can_change": ui.can_change(request),
        "cycle_months": request.org.recredentialing_cycle_months,
        "today": today,
    }
    if request.method == "GET":  # the file summary is provider data; a refused POST is not a read
        provider_record_read(
            org=request.org,
            actor=request.membership,
            provider=review.provider,
            part="committee review",
        )
    return render(request, "roster/committee/review.html", context, status=400 if errors else 200)


@require_POST
@vary_on_headers("HX-Request")
@capability_required(cap.CHANGE_ROSTER)
def committee_notified(request, org_slug, review_id):
    review = sel.committee_review_get(org=request.org, review_id=review_id)
    notified_form = NotifiedForm(request.POST)
    ok = notified_form.is_valid()
    error = "" if ok else notified_form.errors["notified_on"][0]
    if ok:
        try:
            svc.committee_mark_notified(
                org=request.org,
                actor=request.membership,
                review=review,
                notified_on=notified_form.cleaned_data["notified_on"],
            )
        except DomainError as exc:
            error = exc.details.get("notified_on") or exc.message
    today = timezone.localdate()
    if ui.is_partial(request):
        context = {
            "r": _decorate([review], today)[0],
            "error": error,
            "can_change": True,
            "today": today,
            "done": "" if error else f"Notified — {review.provider.full_name}.",
        }
        return render(
            request, "roster/committee/_notify_row.html", context, status=400 if error else 200
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Recorded: {review.provider.full_name} was notified.")
    return redirect(reverse("committee", kwargs={"org_slug": request.org.slug}) + "#notify")


# --- provider-centric fragment ------------------------------------------------------------------
def _provider_fragment(request, provider, *, errors=None, reasons=None, status=200, done=""):
    today = timezone.localdate()
    readiness = sel.provider_readiness(org=request.org, provider=provider, today=today)
    context = {
        "provider": provider,
        "committee_loaded": True,
        "readiness": readiness,
        "reviews": _decorate(
            list(sel.committee_reviews_for_provider(org=request.org, provider=provider)), today
        ),
        "can_change": ui.can_change(request),
        "errors": errors or {},
        "top_error": (errors or {}).get("__all__", ""),
        "reasons": reasons or [],
        "done": done,
        "today": today,
        "back_path": (request.htmx.current_url_abs_path if request.htmx else None) or request.path,
    }
    template = (
        "roster/committee/_provider_committee.html"
        if ui.is_partial(request)
        else "roster/committee/provider.html"
    )
    return render(request, template, context, status=status)


@require_GET
@vary_on_headers("HX-Request")
@capability_required(cap.VIEW_ROSTER)
def provider_committee(request, org_slug, provider_id):
    provider = provider_get(org=request.org, provider_id=provider_id)
    provider_record_read(
        org=request.org, actor=request.membership, provider=provider, part="committee"
    )
    return _provider_fragment(request, provider)


urlpatterns = [
    path("", committee_home, name="committee"),
    path("ready/", committee_mark_ready, name="committee_mark_ready"),
    path("reviews/<uuid:review_id>/", committee_review, name="committee_review"),
    path("reviews/<uuid:review_id>/schedule/", committee_schedule, name="committee_schedule"),
    path("reviews/<uuid:review_id>/notified/", committee_notified, name="committee_notified"),
    path("provider/<uuid:provider_id>/", provider_committee, name="committee_provider"),
]
