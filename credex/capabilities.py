"""Role -> capabilities: the one place that says who may do what."""

from __future__ import annotations

from credex.models import Role

VIEW_ORG = "org.view"
CHANGE_SETTINGS = "org.settings.change"
VIEW_MEMBERS = "members.view"
MANAGE_MEMBERS = "members.manage"
MANAGE_API_KEYS = "apikeys.manage"
VIEW_AUDIT = "audit.view"
EXPORT_AUDIT = "audit.export"
VIEW_ROSTER = "roster.view"
CHANGE_ROSTER = "roster.change"
# Billing: owners and admins manage it (plan, checkout, payouts); auditors read it; coordinators
# see nothing of billing.
MANAGE_BILLING = "billing.manage"
VIEW_BILLING = "billing.view"
# The verification exchange: every member reads it; coordinators and up trade (list, buy,
# releases, ratings, disputes); owners and admins run the membership (apply, requirements,
# price votes, the statement).
VIEW_EXCHANGE = "exchange.view"
TRADE_EXCHANGE = "exchange.trade"
MANAGE_EXCHANGE = "exchange.manage"
# An independent coordinator's per-client invoice and the rate card it is priced with
# (billing/services/coordinator.py): held through the coordinator role, and usable only by a
# person who holds that role in two or more organizations (their clients). Owners, admins and
# auditors bill nobody; an API key acts for one organization, never for a person.
INVOICE_CLIENTS = "clients.invoice"
# One organization is an employer; clients are two or more.
INVOICE_CLIENTS_MIN_ORGS = 2

_READ = {VIEW_ORG, VIEW_MEMBERS, VIEW_ROSTER, VIEW_EXCHANGE}

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(
        _READ
        | {
            CHANGE_SETTINGS,
            MANAGE_MEMBERS,
            MANAGE_API_KEYS,
            VIEW_AUDIT,
            EXPORT_AUDIT,
            CHANGE_ROSTER,
            MANAGE_BILLING,
            VIEW_BILLING,
            TRADE_EXCHANGE,
            MANAGE_EXCHANGE,
        }
    ),
    Role.ADMIN: frozenset(
        _READ
        | {
            CHANGE_SETTINGS,
            MANAGE_MEMBERS,
            MANAGE_API_KEYS,
            VIEW_AUDIT,
            EXPORT_AUDIT,
            CHANGE_ROSTER,
            MANAGE_BILLING,
            VIEW_BILLING,
            TRADE_EXCHANGE,
            MANAGE_EXCHANGE,
        }
    ),
    Role.COORDINATOR: frozenset(_READ | {CHANGE_ROSTER, TRADE_EXCHANGE, INVOICE_CLIENTS}),
    # Auditors are read-only: they read the roster and the audit log and export it.
    Role.AUDITOR: frozenset(_READ | {VIEW_AUDIT, EXPORT_AUDIT, VIEW_BILLING}),
}


def has_capability(role: str | None, capability: str) -> bool:
    return bool(role) and capability in ROLE_CAPABILITIES.get(role, frozenset())


def roles_with(capability: str) -> tuple[str, ...]:
    """The roles that hold `capability`, in the map's order (e.g. who may be assigned work)."""
    return tuple(role for role, caps in ROLE_CAPABILITIES.items() if capability in caps)


def serves_clients(roles) -> bool:
    """Whether a person with these roles (one per organization) is an independent coordinator:
    INVOICE_CLIENTS in at least INVOICE_CLIENTS_MIN_ORGS organizations."""
    held = sum(1 for role in roles if has_capability(role, INVOICE_CLIENTS))
    return held >= INVOICE_CLIENTS_MIN_ORGS
