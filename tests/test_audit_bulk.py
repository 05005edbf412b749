"""audit_record_many: many events, one lock, the same chain as one audit_record per event."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connections, transaction

from audit.models import AuditEvent
from audit.services import Actor, audit_record, audit_record_many
from credex.tenancy import tenant_context

pytestmark = pytest.mark.external


def _verify(slug):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", org=slug, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, err.getvalue()
    return 0, out.getvalue()


def _events(org):
    with tenant_context(org):
        return list(AuditEvent.objects.filter(organization=org).order_by("seq"))


def test_bulk_events_continue_the_chain_and_audit_verify_passes(committed_tenant):
    org = committed_tenant.org
    actor = Actor.system("bulk-test")
    with transaction.atomic():
        audit_record(org=org, actor=actor, action="test.before")
    with transaction.atomic():
        written = audit_record_many(
            org=org,
            actor=actor,
            events=[
                {
                    "action": "test.bulk",
                    "target_type": "thing",
                    "target_id": str(i),
                    "data": {"i": i},
                }
                for i in range(250)
            ],
        )
    with transaction.atomic():
        audit_record(org=org, actor=actor, action="test.after")

    events = _events(org)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    bulk = [e for e in events if e.action == "test.bulk"]
    assert len(bulk) == 250 == len(written)
    assert bulk[0].prev_hash == next(e for e in events if e.action == "test.before").hash
    assert [e.data["i"] for e in bulk] == list(range(250))
    after = next(e for e in events if e.action == "test.after")
    assert after.prev_hash == bulk[-1].hash
    code, out = _verify(org.slug)
    assert code == 0, out
    assert "OK" in out


def test_bulk_events_mask_protected_fields_and_name_their_target(tenant_a):
    org = tenant_a.org
    with tenant_context(org):
        member = tenant_a.membership(tenant_a.owner)
        (event,) = audit_record_many(
            org=org,
            actor=Actor.member(tenant_a.owner),
            events=[{"action": "test.masked", "target": member, "data": {"ssn": "123456789"}}],
        )
    with tenant_context(org):  # events are written when the transaction commits
        stored = AuditEvent.objects.get(pk=event["id"])
    assert stored.data == {"ssn": "***"}
    assert stored.target_type == "credex.membership" and stored.target_id == str(member.pk)
    assert stored.actor_label == tenant_a.owner.email
    assert stored.hash == event["hash"] and stored.seq == event["seq"]


def test_an_empty_batch_writes_nothing(tenant_a):
    before = len(_events(tenant_a.org))
    assert audit_record_many(org=tenant_a.org, actor=Actor.system("x"), events=[]) == []
    assert len(_events(tenant_a.org)) == before


def test_bulk_and_single_writers_at_once_leave_a_gap_free_valid_chain(committed_tenant):
    org = committed_tenant.org
    errors = []

    def bulk_writer():
        try:
            for n in range(5):
                with transaction.atomic():
                    audit_record_many(
                        org=org,
                        actor=Actor.system("bulk"),
                        events=[
                            {"action": "test.bulk", "data": {"n": n, "i": i}} for i in range(40)
                        ],
                    )
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    def single_writer():
        try:
            for i in range(20):
                with transaction.atomic():
                    audit_record(org=org, actor=Actor.system("single"), action="test.one")
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=bulk_writer), threading.Thread(target=single_writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seqs = [e.seq for e in _events(org)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) >= 220
    assert _verify(org.slug)[0] == 0
