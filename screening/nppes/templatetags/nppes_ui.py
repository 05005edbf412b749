"""Small formats for the NPPES pages."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

register = template.Library()


@register.filter
def ago(value) -> str:
    """'just now', '5 minutes ago', '3 days ago' (one unit: a worklist is read at a glance)."""
    if not value:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value, depth=1)} ago"


@register.filter
def within(value) -> str:
    """'in 10 hours' for a future time; 'now' once it has passed."""
    if not value:
        return ""
    if value <= timezone.now():
        return "now"
    return f"in {timeuntil(value, depth=1)}"


@register.simple_tag
def nppes_failure(detail, outcome="error", http_status=None, attempts=0) -> dict:
    """{% nppes_failure check.error_detail check.outcome check.http_status check.attempts as f %}:
    the headline (what happened, what to do) and the detail of a failed NPPES call."""
    from screening.nppes.selectors import failure_summary

    return failure_summary(detail, outcome=outcome, http_status=http_status, attempts=attempts)
