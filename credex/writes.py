"""Billing read-only: when an organization's writes are paused (Organization.writes_paused_at,
set and cleared only by billing's services), every write answers "billing past due" and
changes nothing; reads and exports keep working and nothing is deleted.

Enforced in three places:
- the request middleware, for every unsafe method under /o/<slug>/ and /api/ (402 with the
  usual error shape on the API; the read-only page in the browser), except billing's own
  routes, through which an owner or admin pays;
- `check_writes(org)` in services and tasks that write on the organization's behalf outside a
  request (imports, scheduled jobs): every `credex.celery.TenantTask` skips a read-only
  organization unless it declares `runs_while_read_only` (screening, billing's own tasks,
  reminders and reads; each says why), a fan-out over organizations leaves read-only ones out
  (`writable_organizations`), and the services that run a queued job check again before
  they write (`fresh=True`), so a job queued before the organization became read-only writes
  nothing after it. Its row stays queued: `credex.jobs.jobs_resume` and the receivers of
  `credex.org_hooks.writes_resumed` send it again the moment writes are restored;
- the signed capability links (credex/links.py): an upload or a signature through a link of
  a read-only organization answers 402 and writes nothing (the page still shows, without its
  form); a payer's package download (a read) keeps working. Accepting an invitation to it
  (credex/views.py, credex.services.invitation_accept) answers 402 too.
- reads that are POSTs (READS_BY_POST: the audited reveal of a masked field, a receipt's
  check) keep working like every read.
"""

from __future__ import annotations

import logging
import re

from django.http import JsonResponse
from django.template.response import TemplateResponse

from credex.errors import WritesPaused

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Billing's own routes stay writable: they are how the organization pays.
EXEMPT_PATHS = re.compile(r"^/o/[-a-zA-Z0-9_]+/billing/|^/api/v1/billing(/|$)")
# Reads that are POSTs (a body carries what to read) keep working like every read: the audited
# reveal of a masked field (it writes only its audit event) and the check of a receipt.
_UUID = r"[0-9a-fA-F-]{36}"
READS_BY_POST = re.compile(
    rf"^/o/[-a-zA-Z0-9_]+/providers/{_UUID}/reveal/$"
    rf"|^/api/v1/providers/{_UUID}/reveal$"
    r"|^/api/v1/exchange/receipts/verify$"
)

log = logging.getLogger(__name__)

MESSAGE = (
    "Billing is past due: this organization is read-only until a payment goes through. "
    "Everything is kept and can still be read and exported. An owner or admin can pay from "
    "the billing page."
)


def writes_paused(org) -> bool:
    return org is not None and org.writes_paused_at is not None


def paused_error(org) -> WritesPaused:
    return WritesPaused(
        MESSAGE,
        details={
            "read_only_since": org.writes_paused_at.isoformat() if org.writes_paused_at else None,
            "reason": org.writes_paused_reason,
            "billing_url": f"/o/{org.slug}/billing/",
        },
    )


def check_writes(org, *, fresh: bool = False) -> None:
    """Raise WritesPaused if `org` is read-only for billing (services and tasks call this).

    `fresh` re-reads the organization's row first: a long job (an import that validated for
    minutes) checks again right before it writes, so a pause committed meanwhile stops it."""
    if fresh and org is not None:
        org.refresh_from_db(fields=["writes_paused_at", "writes_paused_reason"])
    if writes_paused(org):
        raise paused_error(org)


def writable_organizations(queryset=None):
    """The organizations a scheduled fan-out of writing work may enqueue for (not read-only)."""
    if queryset is None:
        from credex.models import Organization

        queryset = Organization.objects.all()
    return queryset.filter(writes_paused_at__isnull=True)


def log_skipped(what: str, org, **details) -> None:
    """One line per skipped run: a read-only organization is expected, not an error."""
    log.info(
        "%s skipped for organization %s: read-only (billing past due) %s",
        what,
        getattr(org, "pk", org),
        details or "",
    )


def blocks(request, org) -> bool:
    """Whether the middleware refuses this request for billing."""
    return (
        request.method not in SAFE_METHODS
        and writes_paused(org)
        and not EXEMPT_PATHS.match(request.path_info)
        and not (request.method == "POST" and READS_BY_POST.match(request.path_info))
    )


def paused_response(request, org):
    error = paused_error(org)
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {"code": error.code, "message": error.message, "details": error.details},
            status=error.status,
        )
    return TemplateResponse(
        request,
        "writes_paused.html",
        {"org": org, "message": error.message, "billing_url": error.details["billing_url"]},
        status=error.status,
    )
