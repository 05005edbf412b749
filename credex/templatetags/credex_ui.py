"""Template helpers for the browser UI: due dates and their colour scale, errors, small formats.

The colour scale is the one the whole UI uses for dates (UI.md "Dates are the product"):
expired (red), within 30 days (orange), within 90 days (amber), current (green), unknown
(grey). Colour is never the only signal: `due_badge` always carries text as well.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

# state -> (css class, text label)
DUE_STATES = {
    "expired": ("due-expired", "Expired"),
    "due-30": ("due-30", "Within 30 days"),
    "due-90": ("due-90", "Within 90 days"),
    "current": ("due-current", "Current"),
    "unknown": ("due-unknown", "Unknown"),
}


def _as_date(value) -> date | None:
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def days_until(value, today: date | None = None) -> int | None:
    """Whole days from today to the value's date (negative when past); None without a date."""
    d = _as_date(value)
    return None if d is None else (d - _today(today)).days


def due_state(value, today: date | None = None) -> str:
    """One of expired, due-30, due-90, current, unknown."""
    days = days_until(value, today)
    if days is None:
        return "unknown"
    if days < 0:
        return "expired"
    if days <= 30:
        return "due-30"
    if days <= 90:
        return "due-90"
    return "current"


def _span(days: int) -> str:
    """'23 days', '5 months', '2 years' for a positive number of days."""
    if days == 1:
        return "1 day"
    if days <= 90:
        return f"{days} days"
    months = round(days / 30.44)
    if months < 24:
        return f"{months} months"
    return f"{round(days / 365.25)} years"


def relative_due(value, kind: str = "expires", today: date | None = None) -> str:
    """'in 23 days', 'expires today', 'expired 4 days ago'; kind='due': 'overdue by 4 days'."""
    days = days_until(value, today)
    if days is None:
        return "no date"
    if days == 0:
        return "due today" if kind == "due" else "expires today"
    if days == 1:
        return "due tomorrow" if kind == "due" else "expires tomorrow"
    if days > 1:
        return f"in {_span(days)}"
    if kind == "due":
        return "overdue by 1 day" if days == -1 else f"overdue by {_span(-days)}"
    return "expired yesterday" if days == -1 else f"expired {_span(-days)} ago"


@register.filter(name="relative_due")
def relative_due_filter(value, kind="expires"):
    """{{ credential.expires_on|relative_due }} -> 'in 23 days' / 'expired 4 days ago'."""
    return relative_due(value, kind or "expires")


@register.filter
def due_class(value):
    """{{ date|due_class }} -> due-expired / due-30 / due-90 / due-current / due-unknown."""
    return DUE_STATES[due_state(value)][0]


@register.filter
def due_label(value):
    """{{ date|due_label }} -> Expired / Within 30 days / Within 90 days / Current / Unknown."""
    return DUE_STATES[due_state(value)][1]


@register.simple_tag
def due_badge(value, kind="expires"):
    """A coloured badge that always says in words how far away the date is."""
    state = due_state(value)
    css, label = DUE_STATES[state]
    d = _as_date(value)
    title = f"{label} — {d:%d %b %Y}" if d else label
    return format_html(
        '<span class="due {}" title="{}"><span class="due-dot" aria-hidden="true"></span>'
        '<span class="sr-only">{}: </span>{}</span>',
        css,
        title,
        label,
        relative_due(value, kind),
    )


@register.simple_tag
def field_error(errors, name):
    """The message to show next to field `name`.

    Services put short codes ('invalid', 'required') in their error details and the sentence
    in the message (errors['__all__'] in the views); a code alone does not say how to fix it,
    so the sentence is shown instead.
    """
    if not errors or name not in errors:
        return ""
    value = str(errors[name])
    if not value.rstrip().endswith((".", "!", "?")) and errors.get("__all__"):
        return errors["__all__"]
    return value[:1].upper() + value[1:]


@register.filter
def form_level_error(errors):
    """errors['__all__'] unless it is already shown next to a field."""
    if not errors or "__all__" not in errors:
        return ""
    if any(k != "__all__" for k in errors):
        return ""
    return errors["__all__"]


@register.filter
def compact_json(value, limit=140):
    """Short one-line JSON for tables; the full text goes in a title attribute."""
    if value in (None, "", {}, []):
        return ""
    text = json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "), default=str
    )
    limit = int(limit) if limit else 0
    if limit and len(text) > limit:
        return text[: limit - 1] + "…"
    return text


@register.filter
def full_json(value):
    if value in (None, "", {}, []):
        return ""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1, default=str)


@register.filter
def shorten(value, length=12):
    """First `length` characters and an ellipsis (hashes, ids)."""
    text = str(value or "")
    length = int(length)
    return text if len(text) <= length else text[:length] + "…"


@register.filter
def initials(user):
    """Up to two letters for the user menu button."""
    if user is None:
        return "?"
    first = (getattr(user, "first_name", "") or "").strip()
    last = (getattr(user, "last_name", "") or "").strip()
    if first or last:
        return ((first[:1]) + (last[:1])).upper()
    email = getattr(user, "email", "") or str(user)
    return email[:1].upper() or "?"


def since_words(value, now=None) -> str:
    """A past moment in words: 'today', 'yesterday', '3 days ago', '5 months ago'; 'never'."""
    if value is None:
        return "never"
    from django.utils import timezone

    now = now or timezone.now()
    days = (timezone.localdate(now) - timezone.localdate(value)).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    return f"{_span(days)} ago"


@register.filter(name="since")
def since_filter(value):
    """{{ user.last_login|since }} -> 'today' / '3 days ago' / 'never'."""
    return since_words(value)


@register.filter
def duration_words(delta):
    """A timedelta as '15 minutes', '1 hour', '2 days' (for lockout and expiry notices)."""
    if delta is None:
        return ""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    if hours < 48 and minutes % 60 == 0:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    if hours < 48:
        return f"{minutes} minutes"
    days = hours // 24
    return f"{days} days"


@register.filter
def job_stalled(row) -> bool:
    """A job row (screening run, package, import) open past its bound with no task executing
    it: shown as "Stalled — retry" (credex/jobs.py)."""
    from credex.jobs import job_is_stalled

    return job_is_stalled(row)
