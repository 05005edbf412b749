"""Template helpers for the browser UI: due dates and their colour scale, errors, small formats.

The colour scale is the one the whole UI uses for dates (UI.md "Dates are the product"):
expired (red), within 30 days (orange), within 90 days (amber), current (green), unknown
(grey). Colour is never the only signal: `due_badge` always carries text as well.
"""

from __future__ import annotations

import json
from datetime import date, datetime, tzinfo

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

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


# --- the product's date format (UI.md "Dates are the product"), one helper for every page,
# the package PDF and the exports: "3 Dec 2026" for a date, "3 Dec 2026, 14:05" for a moment
# in the active time zone (the organization's; UTC by default). Relative words ("in 23 days",
# "3 days ago") come from relative_due and since, next to these, never instead of them.


def format_date(value) -> str:
    """'3 Dec 2026' for a date or a datetime (its local date); '' without one."""
    d = _as_date(value)
    return f"{d.day} {d:%b %Y}" if d else ""


def format_datetime(value, tz: tzinfo | None = None, *, zone: bool = False) -> str:
    """'3 Dec 2026, 14:05' in the active time zone (or `tz`); zone=True adds ' UTC'."""
    if not isinstance(value, datetime):
        return format_date(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value, tz)
    text = f"{value.day} {value:%b %Y, %H:%M}"
    return f"{text} {value:%Z}".rstrip() if zone else text


@register.filter(name="human_date")
def human_date_filter(value):
    """{{ credential.expiry_date|human_date }} -> '3 Dec 2026'."""
    return format_date(value)


@register.filter(name="human_datetime")
def human_datetime_filter(value, arg=""):
    """{{ event.created_at|human_datetime }} -> '3 Dec 2026, 14:05'; arg 'zone' adds the zone."""
    return format_datetime(value, zone=arg == "zone")


# --- the person-label helper: a person is shown by name, an e-mail only when there is no name.


def person_label(who, fallback: str = "") -> str:
    """The display name of a User or Membership (their `display_name`: full name, else e-mail;
    "Name (removed)" for a removed membership); `fallback` for None (a system job, an API key)
    or an empty string."""
    if who is None or who == "":
        return fallback
    if not hasattr(who, "display_name"):
        return fallback or str(who)
    return who.display_name or fallback


@register.filter(name="person")
def person_filter(who, fallback=""):
    """{{ package.requested_by|person }} -> 'Rosa Martinez'; with a fallback for None:
    {{ v.verifier_user|person:v.verifier_label }}."""
    return person_label(who, fallback or "")


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
    title = f"{label} — {format_date(d)}" if d else label
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


# Inline SVG icons: a font glyph such as ⛔ renders as an empty box on a system without an
# emoji font; SVG needs no font and no request (CSP-safe: markup, not a style attribute).
ICONS = {
    "no-entry": '<circle cx="8" cy="8" r="7.5"/><rect class="icon-cut" x="3.5" y="6.6" '
    'width="9" height="2.8" rx="0.6"/>',
    "warning": '<path d="M8 1.2 15.4 14.3H.6z"/><rect class="icon-cut" x="7.2" y="5.6" '
    'width="1.6" height="4.6" rx=".5"/><circle class="icon-cut" cx="8" cy="12" r=".95"/>',
}


@register.simple_tag
def icon(name):
    """{% icon "no-entry" %}: a 1em inline SVG icon, hidden from screen readers (the text
    beside it says the same)."""
    body = ICONS.get(str(name), ICONS["warning"])
    return format_html(
        '<svg class="icon icon-{}" viewBox="0 0 16 16" aria-hidden="true" focusable="false">'
        "{}</svg>",
        name,
        mark_safe(body),  # noqa: S308 (constant markup above)
    )


@register.filter
def break_dots(value):
    """A dotted code ('roster.provider.list_viewed') that may wrap after its dots and
    underscores (<wbr>), so a narrow column breaks it between words, not inside one."""
    from django.utils.html import escape

    text = str(escape(value or ""))
    return mark_safe(text.replace(".", ".<wbr>").replace("_", "_<wbr>"))  # noqa: S308 (escaped)


@register.filter(name="cents")
def cents(value) -> str:
    """{{ amount_cents|cents }} -> "$1,234.50" (credex.money.format_cents)."""
    from credex.money import format_cents

    return format_cents(value)


@register.filter
def serves_clients(memberships) -> bool:
    """{% if switcher|serves_clients %}: an independent coordinator (credex.capabilities)."""
    from credex.capabilities import serves_clients as _serves

    return _serves(m.role for m in memberships or ())
