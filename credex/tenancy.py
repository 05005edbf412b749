"""Tenant scoping, enforced twice.

1. ORM: tenant models use `TenantManager`, which filters on the active organization and
   raises `NoActiveOrganization` when none is active (fails closed).
2. Postgres RLS: `tenant_context` opens a transaction and sets `app.current_org` with
   `set_config(..., true)`, i.e. transaction-local, so a pooled connection never carries
   one request's organization into the next.

The context is entered in few places: the request middleware, the base Celery task,
management commands, and capability links whose signed token names the organization
(invitations; provider and payer links through credex.links.signed_link_view).
`unscoped()` is the explicit platform path.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.db import connections, models, transaction

if TYPE_CHECKING:
    from credex.models import Organization

_current_org: contextvars.ContextVar[uuid.UUID | None] = contextvars.ContextVar(
    "credex_current_org", default=None
)
_unscoped: contextvars.ContextVar[bool] = contextvars.ContextVar("credex_unscoped", default=False)


class NoActiveOrganization(RuntimeError):
    """A tenant table was queried with no organization active."""


def current_org_id() -> uuid.UUID | None:
    return _current_org.get()


def set_db_context(
    *, org_id: uuid.UUID | None = None, user_id=None, using: str = "default"
) -> tuple[str, str]:
    """Set the RLS settings for the current transaction (transaction-local only).

    Returns the previous (org, user) values so a nested context can restore them.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("RLS settings are only set inside a transaction (set_config local).")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('app.current_org', true), "
            "current_setting('app.current_user', true), "
            "set_config('app.current_org', %s, true), set_config('app.current_user', %s, true)",
            [str(org_id) if org_id else "", str(user_id) if user_id else ""],
        )
        previous = cursor.fetchone()
    return previous[0] or "", previous[1] or ""


def _restore(previous: tuple[str, str]) -> None:
    connection = connections["default"]
    if not connection.in_atomic_block or connection.needs_rollback:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('app.current_org', %s, true), "
            "set_config('app.current_user', %s, true)",
            list(previous),
        )


@contextmanager
def tenant_context(org: Organization | uuid.UUID, *, user_id=None) -> Iterator[None]:
    """Enter one organization's scope: ORM filter + transaction-local RLS setting."""
    org_id = org if isinstance(org, uuid.UUID) else org.pk
    token = _current_org.set(org_id)
    try:
        with transaction.atomic():
            previous = set_db_context(org_id=org_id, user_id=user_id)
            yield
            _restore(previous)
    finally:
        _current_org.reset(token)


@contextmanager
def user_context(user_id) -> Iterator[None]:
    """A transaction that may read the user's own memberships across organizations."""
    with transaction.atomic():
        previous = set_db_context(org_id=_current_org.get(), user_id=user_id)
        yield
        _restore(previous)


@contextmanager
def unscoped() -> Iterator[None]:
    """Platform code only: lift the ORM scope. RLS still applies to the app role."""
    token = _unscoped.set(True)
    try:
        yield
    finally:
        _unscoped.reset(token)


@contextmanager
def platform_path(*, using: str = "default") -> Iterator[None]:
    """Platform code that must read across organizations (the exchange operator's console,
    market rates from every member's votes, the ledger's platform accounts): sets the
    transaction-local `app.platform_path`, which the policies naming `credex_platform_path()`
    admit, and lifts the ORM scope. Inside a transaction only; callers audit what they do.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("The platform path is only entered inside a transaction.")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('app.platform_path', true), "
            "set_config('app.platform_path', 'on', true)"
        )
        previous = cursor.fetchone()[0] or ""
    try:
        with unscoped():
            yield
    finally:
        if connection.in_atomic_block and not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.platform_path', %s, true)", [previous])


@contextmanager
def second_scope(org: Organization | uuid.UUID) -> Iterator[None]:
    """Inside the caller's transaction, act as another organization for a moment, then return
    to the caller's: the explicit two-scope path of an exchange purchase or refund (read the
    seller's record, post the seller's ledger leg). Both settings, the ORM's and RLS's, move
    together and are restored on the way out. Only exchange services call it."""
    org_id = org if isinstance(org, uuid.UUID) else org.pk
    connection = connections["default"]
    if not connection.in_atomic_block:
        raise RuntimeError("A second scope is only entered inside the caller's transaction.")
    token = _current_org.set(org_id)
    try:
        previous = set_db_context(org_id=org_id)
        yield
        _restore(previous)
    finally:
        _current_org.reset(token)


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Filters on the active organization; raises when none is active."""

    def get_queryset(self):
        qs = super().get_queryset()
        if _unscoped.get():
            return qs
        org_id = _current_org.get()
        if org_id is None:
            raise NoActiveOrganization(
                f"{self.model.__name__} is tenant data: enter tenant_context(org) first."
            )
        return qs.filter(organization_id=org_id)


class TenantModel(models.Model):
    """Base for every tenant-owned table: UUID id, non-null organization, scoped manager."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "credex.Organization", on_delete=models.PROTECT, related_name="+", editable=False
    )

    objects = TenantManager()

    class Meta:
        abstract = True
        base_manager_name = "objects"

    def save(self, *args, **kwargs):
        # Fill the organization from the active scope and refuse a mismatch: a row is
        # written only into the organization whose context is active.
        active = _current_org.get()
        if self.organization_id is None and active is not None:
            self.organization_id = active
        if active is not None and self.organization_id != active and not _unscoped.get():
            raise NoActiveOrganization("Refusing to write a row of another organization.")
        super().save(*args, **kwargs)
