"""Database bootstrap, run as the schema owner: database, application role, schema, grants.

The application role (DATABASE_URL's user) is created LOGIN NOSUPERUSER NOBYPASSRLS and gets
only DML on tables; on the audit table it gets SELECT and INSERT only.
"""

from __future__ import annotations

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from psycopg import sql

AUDIT_TABLE = "audit_auditevent"
# Append-only tables besides the audit log: the PSV log and its evidence (corrections supersede).
IMMUTABLE_TABLES = ("verifications_verification", "verifications_verificationevidence")


def _connect(db: dict, dbname: str):
    kwargs = {
        "dbname": dbname,
        "user": db["USER"] or None,
        "host": db["HOST"] or None,
        "port": db["PORT"] or None,
        "password": db["PASSWORD"] or None,
        "autocommit": True,
    }
    return psycopg.connect(**{k: v for k, v in kwargs.items() if v is not None})


def ensure_database(name: str, *, drop_first: bool = False) -> None:
    owner = settings.DATABASES["owner"]
    with _connect(owner, "postgres") as conn:
        if drop_first:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name: str) -> None:
    connections.close_all()
    with _connect(settings.DATABASES["owner"], "postgres") as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def ensure_app_role() -> str:
    app = settings.DATABASES["default"]
    owner = settings.DATABASES["owner"]
    role = app["USER"]
    if not role or role == owner["USER"]:
        return role  # single-role setup: nothing to create (the system check will judge it)
    with _connect(owner, owner["NAME"]) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        verb = "ALTER" if exists else "CREATE"
        statement = sql.SQL(
            "{} ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
        ).format(sql.SQL(verb), sql.Identifier(role))
        if app["PASSWORD"]:
            statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(app["PASSWORD"]))
        conn.execute(statement)
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(owner["NAME"]), sql.Identifier(role)
            )
        )
    return role


def apply_grants() -> None:
    role = settings.DATABASES["default"]["USER"]
    if not role or role == settings.DATABASES["owner"]["USER"]:
        return
    ident = sql.Identifier(role)
    with _connect(settings.DATABASES["owner"], settings.DATABASES["owner"]["NAME"]) as conn:
        for statement in (
            "GRANT USAGE ON SCHEMA public TO {}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}",
            "REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {}",
            f"REVOKE UPDATE, DELETE, TRUNCATE ON {AUDIT_TABLE} FROM {{}}",
            *(f"REVOKE UPDATE, DELETE, TRUNCATE ON {t} FROM {{}}" for t in IMMUTABLE_TABLES),
        ):
            conn.execute(sql.SQL(statement).format(ident))
        conn.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {AUDIT_TABLE} FROM PUBLIC")


def bootstrap(*, drop_first: bool = False, verbosity: int = 1) -> None:
    """Create database and role if missing, migrate as the owner, apply grants. Idempotent."""
    ensure_database(settings.DATABASES["owner"]["NAME"], drop_first=drop_first)
    ensure_app_role()
    call_command("migrate", database="owner", interactive=False, verbosity=verbosity)
    apply_grants()
    connections["owner"].close()
