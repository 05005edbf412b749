"""The audit log: append-only in the database, hash-chained, verifiable, exportable."""

from __future__ import annotations

import io
import json
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.db.utils import InternalError, ProgrammingError

from audit import chain
from audit.models import AuditEvent
from audit.services import Actor, audit_record, mask
from credex.tenancy import tenant_context

pytestmark = pytest.mark.external


def _event(org, action="test.thing", **data):
    return audit_record(org=org, actor=Actor.system("test"), action=action, data=data)


def test_events_chain_with_per_organization_sequence(tenant_a, tenant_b):
    with tenant_context(tenant_a.org):
        first_seq = AuditEvent.objects.filter(organization=tenant_a.org).count()
        e1 = _event(tenant_a.org, n=1)
        e2 = _event(tenant_a.org, n=2)
    b1 = _event(tenant_b.org, n=1)
    assert (e1.seq, e2.seq) == (first_seq + 1, first_seq + 2)
    assert e2.prev_hash == e1.hash
    assert b1.prev_hash != e1.hash and b1.organization_id == tenant_b.org.pk


def test_secrets_and_protected_fields_are_masked():
    masked = mask(
        {
            "password": "hunter2",
            "ssn": "123-45-6789",
            "nested": {"api_key": "cx_1"},
            "email": "a@b.example",
            "dob": "1970-01-01",
        }
    )
    assert masked == {
        "password": "***",
        "ssn": "***",
        "nested": {"api_key": "***"},
        "email": "a@b.example",
        "dob": "***",
    }


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'x'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
    ],
)
def test_update_delete_truncate_fail_for_the_application_role(tenant_a, statement):
    with tenant_context(tenant_a.org):
        _event(tenant_a.org)
        with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
        assert AuditEvent.objects.filter(organization=tenant_a.org).exists()


def test_the_orm_refuses_to_change_or_delete_an_event(tenant_a):
    with tenant_context(tenant_a.org):
        event = _event(tenant_a.org)
        with pytest.raises(PermissionError):
            event.save()
        with pytest.raises(PermissionError):
            event.delete()
        with pytest.raises(PermissionError):
            AuditEvent.objects.filter(pk=event.pk).update(action="x")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'x' WHERE organization_id = %s",
        "DELETE FROM audit_auditevent WHERE organization_id = %s",
        "TRUNCATE audit_auditevent",
    ],
)
def test_triggers_reject_changes_even_for_the_owner(committed_tenant, statement):
    _commit_event(committed_tenant.org)
    owner = connections["owner"]
    with pytest.raises((InternalError, ProgrammingError), match="append-only"):
        with transaction.atomic(using="owner"), owner.cursor() as cursor:
            params = [committed_tenant.org.pk] if "%s" in statement else []
            cursor.execute(statement, params)


def _commit_event(org, **data):
    with transaction.atomic():
        return _event(org, **data)


def _tamper(sql, params):
    """A superuser with triggers off (session_replication_role=replica), behind the app's back."""
    owner = connections["owner"]
    with transaction.atomic(using="owner"), owner.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)


def _verify(slug):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", org=slug, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_audit_verify_passes_on_an_intact_chain(committed_tenant):
    for i in range(3):
        _commit_event(committed_tenant.org, n=i)
    code, out, err = _verify(committed_tenant.org.slug)
    assert code == 0, err
    assert "OK" in out


def test_a_row_changed_behind_the_apps_back_fails_audit_verify_at_that_event(committed_tenant):
    events = [_commit_event(committed_tenant.org, n=i) for i in range(5)]
    target = events[2]
    _tamper("UPDATE audit_auditevent SET data = '{\"n\": 99}' WHERE id = %s", [target.pk])
    code, out, err = _verify(committed_tenant.org.slug)
    assert code == 1
    assert f"seq {target.seq}" in err and str(target.pk) in err
    assert "hash does not match" in err


def test_a_deleted_row_is_found_as_a_sequence_gap(committed_tenant):
    events = [_commit_event(committed_tenant.org, n=i) for i in range(4)]
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    code, _, err = _verify(committed_tenant.org.slug)
    assert code == 1
    assert f"expected {events[1].seq}, found {events[2].seq}" in err


def test_concurrent_writers_in_one_organization_produce_a_gap_free_valid_chain(committed_tenant):
    org = committed_tenant.org
    errors = []

    def writer(n):
        try:
            for i in range(10):
                with transaction.atomic():
                    _event(org, writer=n, i=i)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with tenant_context(org):
        seqs = list(
            AuditEvent.objects.filter(organization=org)
            .order_by("seq")
            .values_list("seq", flat=True)
        )
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) >= 60
    assert _verify(org.slug)[0] == 0


def test_platform_events_chain_without_an_organization(db):
    e1 = audit_record(
        org=None,
        actor=Actor.anonymous("x@unknown.example"),
        action="auth.login.failed",
        data={"email": "x@unknown.example"},
    )
    e2 = audit_record(org=None, actor=Actor.anonymous(), action="auth.login.failed")
    assert e1.organization_id is None and e2.prev_hash == e1.hash and e2.seq == e1.seq + 1


# --- auditor page and exports ------------------------------------------------------------
def test_auditor_filters_the_log_by_action(tenant_a, login):
    with tenant_context(tenant_a.org):
        _event(tenant_a.org, action="custom.alpha")
        _event(tenant_a.org, action="custom.beta")
    client = login(tenant_a.auditor)
    response = client.get(f"/o/{tenant_a.org.slug}/audit/", {"action": "custom.alpha"})
    assert response.status_code == 200
    events = list(response.context["page"].object_list)
    assert [e.action for e in events] == ["custom.alpha"]


def test_audit_filter_with_a_bad_date_says_how_to_fix_it(tenant_a, login):
    response = login(tenant_a.auditor).get(
        f"/o/{tenant_a.org.slug}/audit/", {"date_from": "yesterday"}
    )
    assert response.status_code == 400
    assert "2026-11-22" in response.context["errors"]["date_from"]


def test_jsonl_export_verifies_offline_and_is_itself_audited(tenant_a, login, tmp_path):
    client = login(tenant_a.auditor)
    response = client.get(f"/o/{tenant_a.org.slug}/audit/export.jsonl")
    assert response.status_code == 200
    lines = response.content.decode().strip().splitlines()
    head = json.loads(lines[-1])["chain_head"]
    events = [json.loads(line) for line in lines[:-1]]
    assert events and head["hash"] == events[-1]["hash"]
    assert chain.verify(events)[1] == head["hash"]
    path = tmp_path / "export.jsonl"
    path.write_text(response.content.decode())
    assert chain._main(str(path)) == 0
    with tenant_context(tenant_a.org):
        exported = AuditEvent.objects.filter(
            organization=tenant_a.org, action="audit.exported"
        ).get()
    assert exported.actor_id == str(tenant_a.auditor.pk)
    assert exported.data["format"] == "jsonl"


def test_offline_verification_catches_an_edited_export(tenant_a, login, tmp_path):
    content = (
        login(tenant_a.auditor).get(f"/o/{tenant_a.org.slug}/audit/export.jsonl").content.decode()
    )
    rows = content.strip().splitlines()
    first = json.loads(rows[0])
    first["action"] = "something.else"
    rows[0] = json.dumps(first)
    path = tmp_path / "edited.jsonl"
    path.write_text("\n".join(rows) + "\n")
    assert chain._main(str(path)) == 1


def test_csv_export_carries_the_chain_head_and_neutralizes_formulas(tenant_a, login):
    import csv

    with tenant_context(tenant_a.org):
        audit_record(
            org=tenant_a.org, actor=Actor.anonymous('=HYPERLINK("http://x")'), action="test.formula"
        )
    response = login(tenant_a.owner).get(f"/o/{tenant_a.org.slug}/audit/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["id", "organization", "seq"]
    assert (
        rows[-1][0] == "#chain_head"
        and rows[-1][-1] == response["X-Audit-Chain-Head"].split(":")[1]
    )
    labels = [r[6] for r in rows[1:-1]]
    assert '\'=HYPERLINK("http://x")' in labels


def test_outsider_gets_404_for_the_audit_log(tenant_a, tenant_b, login):
    client = login(tenant_b.owner)
    assert client.get(f"/o/{tenant_a.org.slug}/audit/").status_code == 404
    assert client.get(f"/o/{tenant_a.org.slug}/audit/export.jsonl").status_code == 404
