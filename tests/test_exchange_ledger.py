"""The ledger's rules in Postgres, by raw SQL as the application role: an unbalanced entry is
refused at commit, a balance cannot go negative, postings and entries are append-only, and an
organization sees only its own accounts and postings. Plus the service's own guards and the
autouse check (tests/conftest.py `_ledger_balanced`) catching a drifted balance."""

from __future__ import annotations

import uuid

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from billing.models import JournalEntry, LedgerAccount, Posting
from billing.services import Leg, entry_post, entry_reverse, trial_balance
from credex.errors import Conflict
from credex.tenancy import platform_path, tenant_context
from tests.conftest import LEDGER_DRIFT_SQL, LEDGER_UNBALANCED_SQL, build_tenant


@pytest.fixture
def org_a(db):
    return build_tenant("Ledger A", "ledger-a.example", roles=()).org


@pytest.fixture
def org_b(db):
    return build_tenant("Ledger B", "ledger-b.example", roles=()).org


def post(org_a, org_b, amount=1000, ref=None):
    """A trade-shaped entry from org A's scope: A owes, B is owed, no fee."""
    with tenant_context(org_a):
        return entry_post(
            kind="exchange_purchase",
            reference_type="test",
            reference_id=ref or str(uuid.uuid4()),
            legs=[
                Leg(kind="exchange_due", amount_cents=amount, org_id=org_a.pk),
                Leg(kind="exchange_proceeds", amount_cents=-amount, org_id=org_b.pk),
            ],
        )


def account_id(org, kind):
    with tenant_context(org):
        return LedgerAccount.objects.get(kind=kind).pk


INSERT_ENTRY = (
    "INSERT INTO billing_journalentry (id, kind, memo, reference_type, reference_id, created_at)"
    " VALUES (%s, 'exchange_purchase', '', 'raw', %s, now())"
)
INSERT_POSTING = (
    "INSERT INTO billing_posting (id, entry_id, account_id, organization_id, amount_cents, memo,"
    " created_at) VALUES (%s, %s, %s, %s, %s, '', now())"
)


def test_an_unbalanced_entry_written_by_raw_sql_is_refused_at_commit(committed_db):
    tag = uuid.uuid4().hex[:6]
    a = build_tenant(f"Raw A {tag}", f"ra{tag}.example", roles=()).org
    b = build_tenant(f"Raw B {tag}", f"rb{tag}.example", roles=()).org
    post(a, b)
    due = account_id(a, "exchange_due")
    entry = uuid.uuid4()
    with pytest.raises(IntegrityError, match="does not balance"):
        with tenant_context(a), connection.cursor() as cursor:
            cursor.execute(INSERT_ENTRY, [entry, str(entry)])
            cursor.execute(INSERT_POSTING, [uuid.uuid4(), entry, due, a.pk, 500])
            # no balancing leg: the deferred trigger refuses the commit
    with transaction.atomic(), platform_path():
        assert not JournalEntry.objects.filter(pk=entry).exists()
    with tenant_context(a):
        assert LedgerAccount.objects.get(kind="exchange_due").balance_cents == 1000


def test_an_entry_with_no_postings_is_refused_at_commit(committed_db):
    entry = uuid.uuid4()
    tag = uuid.uuid4().hex[:6]
    a = build_tenant(f"Empty {tag}", f"e{tag}.example", roles=()).org
    with pytest.raises(IntegrityError, match="does not balance"):
        with tenant_context(a), connection.cursor() as cursor:
            cursor.execute(INSERT_ENTRY, [entry, str(entry)])


def test_a_balance_cannot_go_negative(org_a, org_b):
    with pytest.raises(IntegrityError), transaction.atomic():
        # A credit on the buyer's debit-normal account: its balance would be -100.
        post(org_a, org_b, amount=-100)
    with tenant_context(org_a):
        assert not LedgerAccount.objects.filter(balance_cents__lt=0).exists()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE billing_posting SET amount_cents = amount_cents + 1",
        "UPDATE billing_posting SET memo = 'edited'",
        "DELETE FROM billing_posting",
        "UPDATE billing_journalentry SET memo = 'edited'",
        "DELETE FROM billing_journalentry",
    ],
)
def test_postings_and_entries_cannot_be_updated_or_deleted_by_the_app_role(org_a, org_b, sql):
    """No policy admits an UPDATE or DELETE: the app role changes no row, even its own."""
    entry = post(org_a, org_b)
    for scope in (lambda: tenant_context(org_a), platform_path):
        try:
            with transaction.atomic(), scope(), connection.cursor() as cursor:
                cursor.execute(sql)
                changed = cursor.rowcount
        except DatabaseError:
            changed = 0  # refused outright
        assert changed == 0, sql
    with transaction.atomic(), platform_path():
        assert sorted(
            Posting.objects.filter(entry=entry).values_list("amount_cents", flat=True)
        ) == [
            -1000,
            1000,
        ]
        assert JournalEntry.objects.get(pk=entry.pk).memo == ""


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE billing_posting SET memo = 'edited' WHERE entry_id = %s",
        "DELETE FROM billing_posting WHERE entry_id = %s",
        "UPDATE billing_journalentry SET memo = 'edited' WHERE id = %s",
        "DELETE FROM billing_journalentry WHERE id = %s",
    ],
)
def test_the_immutability_triggers_refuse_even_the_database_owner(committed_db, sql):
    from django.db import connections

    tag = uuid.uuid4().hex[:6]
    a = build_tenant(f"Owner A {tag}", f"oa{tag}.example", roles=()).org
    b = build_tenant(f"Owner B {tag}", f"ob{tag}.example", roles=()).org
    entry = post(a, b)
    owner = connections["owner"]
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(using="owner"), owner.cursor() as cursor:
            cursor.execute("SELECT set_config('app.platform_path', 'on', true)")
            cursor.execute(sql, [entry.pk])
    with transaction.atomic(), platform_path():
        assert Posting.objects.filter(entry=entry).count() == 2


def test_an_organization_sees_only_its_own_accounts_and_postings_by_raw_sql(org_a, org_b):
    third = build_tenant("Ledger C", "ledger-c.example", roles=()).org
    entry = post(org_a, org_b)

    def rows(org, sql, params=()):
        with tenant_context(org), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    assert rows(org_b, "SELECT organization_id FROM billing_posting") == [(org_b.pk,)]
    assert rows(org_a, "SELECT organization_id FROM billing_posting") == [(org_a.pk,)]
    assert rows(org_b, "SELECT organization_id, kind FROM billing_ledgeraccount") == [
        (org_b.pk, "exchange_proceeds")
    ]
    assert rows(third, "SELECT count(*) FROM billing_posting") == [(0,)]
    assert rows(third, "SELECT count(*) FROM billing_ledgeraccount") == [(0,)]
    assert rows(third, "SELECT count(*) FROM billing_journalentry WHERE id = %s", [entry.pk]) == [
        (0,)
    ]
    # The platform's accounts are invisible to every organization.
    assert rows(
        org_a, "SELECT count(*) FROM billing_ledgeraccount WHERE organization_id IS NULL"
    ) == [(0,)]


def test_an_organization_cannot_post_to_another_organizations_account(org_a, org_b):
    post(org_a, org_b)
    b_account = account_id(org_b, "exchange_proceeds")
    entry = uuid.uuid4()
    with pytest.raises(DatabaseError), transaction.atomic():
        with tenant_context(org_a), connection.cursor() as cursor:
            cursor.execute(INSERT_ENTRY, [entry, str(entry)])
            cursor.execute(INSERT_POSTING, [uuid.uuid4(), entry, b_account, org_b.pk, -5])
    with tenant_context(org_b):
        assert LedgerAccount.objects.get(kind="exchange_proceeds").balance_cents == 1000


def test_a_posting_labelled_with_another_organization_than_its_account_is_refused(org_a, org_b):
    post(org_a, org_b)
    a_due = account_id(org_a, "exchange_due")
    entry = uuid.uuid4()
    with pytest.raises(DatabaseError), transaction.atomic():
        with tenant_context(org_a), connection.cursor() as cursor:
            cursor.execute(INSERT_ENTRY, [entry, str(entry)])
            cursor.execute(INSERT_POSTING, [uuid.uuid4(), entry, a_due, org_b.pk, 5])


def test_the_service_refuses_an_unbalanced_entry_and_a_second_posting_of_one_reference(
    org_a, org_b
):
    with pytest.raises(ValueError), tenant_context(org_a):
        entry_post(
            kind="exchange_purchase",
            reference_type="test",
            reference_id="x",
            legs=[Leg(kind="exchange_due", amount_cents=5, org_id=org_a.pk)],
        )
    post(org_a, org_b, ref="once")
    with pytest.raises(Conflict) as caught:
        post(org_a, org_b, ref="once")
    assert caught.value.code == "already_posted"


def test_a_zero_leg_is_left_out_and_the_entry_still_balances(org_a, org_b):
    with tenant_context(org_a):
        entry = entry_post(
            kind="exchange_purchase",
            reference_type="test",
            reference_id="free",
            legs=[
                Leg(kind="exchange_due", amount_cents=200, org_id=org_a.pk),
                Leg(kind="exchange_proceeds", amount_cents=0, org_id=org_b.pk),
                Leg(kind="platform_fees", amount_cents=-200, org_id=None),
            ],
        )
    with transaction.atomic(), platform_path():
        assert sorted(
            Posting.objects.filter(entry=entry).values_list("amount_cents", flat=True)
        ) == [
            -200,
            200,
        ]


def test_a_reversal_restores_every_balance(org_a, org_b):
    entry = post(org_a, org_b, amount=700)
    with tenant_context(org_a):
        reversal = entry_reverse(entry=entry, kind="exchange_refund")
    assert reversal.reverses_id == entry.pk
    with tenant_context(org_a):
        assert LedgerAccount.objects.get(kind="exchange_due").balance_cents == 0
    with tenant_context(org_b):
        assert LedgerAccount.objects.get(kind="exchange_proceeds").balance_cents == 0
    totals = trial_balance()
    assert totals["debits_cents"] == totals["credits_cents"]


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE billing_ledgeraccount SET balance_cents = balance_cents + 1 WHERE id = %s",
        "UPDATE billing_ledgeraccount SET kind = 'exchange_proceeds' WHERE id = %s",
    ],
)
def test_a_balance_or_kind_set_by_hand_is_refused(org_a, org_b, sql):
    post(org_a, org_b)
    a_due = account_id(org_a, "exchange_due")
    with pytest.raises(DatabaseError, match="ledger"), transaction.atomic():
        with tenant_context(org_a), connection.cursor() as cursor:
            cursor.execute(sql, [a_due])
    with tenant_context(org_a):
        account = LedgerAccount.objects.get(pk=a_due)
    assert (account.kind, account.balance_cents) == ("exchange_due", 1000)


def test_the_autouse_check_finds_a_drifted_balance_and_an_unbalanced_entry(org_a, org_b):
    """The SQL of tests/conftest.py `_ledger_balanced` is not vacuous: a balance set by hand
    (the guard is defence against bugs; this test lifts it the way only the posting trigger
    should), or an entry missing a leg (possible only before commit), is what it reports."""
    entry = post(org_a, org_b)
    a_due = account_id(org_a, "exchange_due")
    with transaction.atomic():
        with tenant_context(org_a), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('billing.applying', 'on', true)")
            cursor.execute(
                "UPDATE billing_ledgeraccount SET balance_cents = 1 WHERE id = %s", [a_due]
            )
        with platform_path(), connection.cursor() as cursor:
            cursor.execute(LEDGER_DRIFT_SQL)
            drift = cursor.fetchall()
        transaction.set_rollback(True)
    assert [row[0] for row in drift] == [a_due]
    with transaction.atomic(), platform_path(), connection.cursor() as cursor:
        cursor.execute(INSERT_ENTRY, [uuid.uuid4(), "half"])
        cursor.execute(LEDGER_UNBALANCED_SQL)
        unbalanced = cursor.fetchall()
        transaction.set_rollback(True)
    assert len(unbalanced) == 1 and unbalanced[0][0] != entry.pk
    with tenant_context(org_a):
        assert LedgerAccount.objects.get(pk=a_due).balance_cents == 1000
