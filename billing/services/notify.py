"""Billing e-mails to an organization's owners and admins, sent after the commit."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from credex.models import Membership, Role


def billing_recipients(org) -> list[str]:
    members = Membership.objects.filter(
        organization=org, role__in=[Role.OWNER, Role.ADMIN]
    ).select_related("user")
    return sorted({m.user.email for m in members} - {""})


def billing_notify(*, org, subject: str, template: str, context: dict | None = None) -> int:
    """E-mail owners and admins once the caller's transaction commits; returns how many."""
    recipients = billing_recipients(org)
    url = f"{settings.SITE_URL.rstrip('/')}/o/{org.slug}/billing/"
    body = render_to_string(template, {"org": org, "url": url, **(context or {})})
    if recipients:
        transaction.on_commit(lambda: send_mail(subject, body, None, recipients))
    return len(recipients)
