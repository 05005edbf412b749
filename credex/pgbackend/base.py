"""Django's Postgres backend with one addition: audit events are sealed at commit.

`audit.services.audit_record` does not write the event where it is called: it appends it
to this connection's `audit_pending` list. Just before the transaction commits, `_commit`
hands the list to `audit.services.seal_pending`, which gives each event its sequence number
and hash under the organization's chain lock and inserts it, in the same transaction. The
chain lock is therefore held only for those inserts and the commit, never while a view
runs or a page renders, and it is always the last lock a transaction takes (the rule that
keeps it out of deadlocks).

Savepoints keep the list honest: rolling back to a savepoint drops the events recorded
after it, a rollback drops them all. Under Django's TestCase (pytest-django's `db`), whose
wrapping transaction never commits, the outermost block the code itself opened stands for
the transaction, the same rule Django applies to `durable` blocks; and a read of the
audit log there sees the events recorded so far in it.
"""

from __future__ import annotations

from django.db import DatabaseError
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.audit_pending: list = []
        self.audit_sealed = 0  # events of the open transaction already inserted
        self._audit_marks: dict[str, int] = {}

    # --- the transaction's end ---------------------------------------------------------

    def _commit(self):
        if self.audit_pending and self.connection is not None:
            self._seal(at_commit=True)
        self._audit_reset()
        return super()._commit()

    def _rollback(self):
        self._audit_reset()
        return super()._rollback()

    def close(self):
        self._audit_reset()
        return super().close()

    # --- savepoints ----------------------------------------------------------------------

    def _savepoint(self, sid):
        self._audit_marks[sid] = self.audit_sealed + len(self.audit_pending)
        return super()._savepoint(sid)

    def _savepoint_rollback(self, sid):
        mark = self._audit_marks.get(sid)
        if mark is not None:
            if mark >= self.audit_sealed:
                del self.audit_pending[mark - self.audit_sealed :]
            else:  # events sealed after the savepoint are rolled back with it
                self.audit_pending.clear()
                self.audit_sealed = mark
        return super()._savepoint_rollback(sid)

    def _savepoint_commit(self, sid):
        self._audit_marks.pop(sid, None)
        result = super()._savepoint_commit(sid)
        if self.audit_pending and self.only_test_blocks_open():
            self._seal(at_commit=False)
        return result

    def in_testcase_transaction(self) -> bool:
        """True inside a TestCase's wrapping transaction (pytest-django's `db`), never in
        production: such a transaction never commits, so reads of the audit log there see
        the events recorded so far (see AuditEventManager)."""
        return bool(self.atomic_blocks) and getattr(self.atomic_blocks[0], "_from_testcase", False)

    def seal_for_reading(self) -> None:
        if self.audit_pending and self.in_testcase_transaction():
            self._seal(at_commit=False)

    def only_test_blocks_open(self) -> bool:
        """True when every open atomic block is a TestCase's (their transaction never commits)."""
        return bool(self.atomic_blocks) and all(
            getattr(block, "_from_testcase", False) for block in self.atomic_blocks
        )

    # --- helpers -------------------------------------------------------------------------

    def _seal(self, *, at_commit: bool) -> None:
        from audit.services import seal_pending

        pending, self.audit_pending = self.audit_pending, []
        try:
            seal_pending(self, pending, at_commit=at_commit)
        except DatabaseError:
            raise
        except Exception as exc:  # the commit must fail as a database error so it rolls back
            raise DatabaseError(f"Sealing the audit events failed: {exc}") from exc
        self.audit_sealed += len(pending)

    def _audit_reset(self) -> None:
        self.audit_pending = []
        self.audit_sealed = 0
        self._audit_marks.clear()
