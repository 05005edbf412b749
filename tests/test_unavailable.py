"""Which database errors mean "briefly unavailable" (503), judged on real Postgres errors."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from credex.unavailable import database_unavailable


def _raised(errcode: str) -> Exception:
    """The exception Django raises for a Postgres error with this condition name."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '{errcode}'; END $$"
            )
    except Exception as exc:
        return exc
    raise AssertionError("no error raised")


@pytest.mark.parametrize(
    ("errcode", "unavailable"),
    [
        ("disk_full", True),  # 53100
        ("too_many_connections", True),  # 53300
        ("admin_shutdown", True),  # 57P01: Postgres is stopping
        ("cannot_connect_now", True),  # 57P03: Postgres is starting
        ("deadlock_detected", False),  # 40P01: this statement's problem, not an outage
        ("serialization_failure", False),  # 40001
        ("lock_not_available", False),  # 55P03
        ("query_canceled", False),  # 57014: a statement timeout
        ("unique_violation", False),  # an IntegrityError
    ],
)
def test_only_errors_that_mean_postgres_cannot_serve_count_as_unavailable(db, errcode, unavailable):
    assert database_unavailable(_raised(errcode)) is unavailable


def test_a_refused_connection_counts_as_unavailable(db):
    import psycopg
    from django.db import OperationalError

    try:
        psycopg.connect(host="127.0.0.1", port=1, dbname="none", connect_timeout=2)
    except psycopg.OperationalError as exc:
        wrapped = OperationalError(str(exc))
        wrapped.__cause__ = exc
    assert database_unavailable(wrapped) is True
    assert database_unavailable(ValueError("not a database error")) is False
