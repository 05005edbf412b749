"""The ledger's rules, enforced by Postgres.

- RLS: an organization reads and writes its own accounts and postings; the platform's
  accounts (organization null) only on the platform path, which also reads every account for
  the operator's trial balance. A journal entry is visible to an organization with a posting
  in it.
- Every journal entry balances to zero and has at least two postings: deferred constraint
  triggers check it at commit (the check reads every posting of the entry on the platform
  path, set inside the function, since the postings of one entry belong to several
  organizations).
- A posting moves its account's balance (trigger), in the account's normal direction; the
  account's CHECK constraint refuses a negative balance unless the account allows it.
- Entries and postings are immutable: a correction is a reversing entry.
"""

from django.db import migrations

from credex.db import PLATFORM_PATH_SQL, SameOrgForeignKey

OWN = "organization_id = credex_current_org()"
PLATFORM_ROW = f"(organization_id IS NULL AND {PLATFORM_PATH_SQL})"

RULES = f"""
ALTER TABLE billing_ledgeraccount ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_ledgeraccount FORCE ROW LEVEL SECURITY;
CREATE POLICY ledger_read ON billing_ledgeraccount FOR SELECT
    USING ({OWN} OR {PLATFORM_PATH_SQL});
CREATE POLICY ledger_insert ON billing_ledgeraccount FOR INSERT WITH CHECK ({OWN} OR {PLATFORM_ROW});
CREATE POLICY ledger_update ON billing_ledgeraccount FOR UPDATE
    USING ({OWN} OR {PLATFORM_ROW}) WITH CHECK ({OWN} OR {PLATFORM_ROW});

ALTER TABLE billing_posting ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_posting FORCE ROW LEVEL SECURITY;
CREATE POLICY posting_read ON billing_posting FOR SELECT USING ({OWN} OR {PLATFORM_PATH_SQL});
CREATE POLICY posting_insert ON billing_posting FOR INSERT WITH CHECK ({OWN} OR {PLATFORM_ROW});

ALTER TABLE billing_journalentry ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_journalentry FORCE ROW LEVEL SECURITY;
CREATE POLICY entry_read ON billing_journalentry FOR SELECT USING (
    {PLATFORM_PATH_SQL} OR EXISTS (
        SELECT 1 FROM billing_posting p
        WHERE p.entry_id = billing_journalentry.id AND p.organization_id = credex_current_org()
    )
);
-- An entry alone moves no money; its postings are what the policies above guard.
CREATE POLICY entry_insert ON billing_journalentry FOR INSERT WITH CHECK (true);

CREATE OR REPLACE FUNCTION billing_entry_check(entry uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    previous text := coalesce(current_setting('app.platform_path', true), '');
    total bigint;
    legs integer;
BEGIN
    PERFORM set_config('app.platform_path', 'on', true);
    SELECT coalesce(sum(amount_cents), 0), count(*) INTO total, legs
        FROM billing_posting WHERE entry_id = entry;
    PERFORM set_config('app.platform_path', previous, true);
    IF total <> 0 OR legs < 2 THEN
        RAISE EXCEPTION 'journal entry % does not balance (% cents over % postings)',
            entry, total, legs USING ERRCODE = 'check_violation';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION billing_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM billing_entry_check(NEW.entry_id);
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER posting_entry_balances AFTER INSERT ON billing_posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION billing_posting_balanced();

CREATE OR REPLACE FUNCTION billing_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM billing_entry_check(NEW.id);
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER entry_balances AFTER INSERT ON billing_journalentry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION billing_entry_balanced();

CREATE OR REPLACE FUNCTION billing_posting_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    account_org uuid;
    account_kind text;
BEGIN
    SELECT organization_id, kind INTO account_org, account_kind
        FROM billing_ledgeraccount WHERE id = NEW.account_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ledger account % is not visible here', NEW.account_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF account_org IS DISTINCT FROM NEW.organization_id THEN
        RAISE EXCEPTION 'posting organization differs from its account''s'
            USING ERRCODE = 'check_violation';
    END IF;
    UPDATE billing_ledgeraccount
        SET balance_cents = balance_cents + CASE
            WHEN account_kind IN ('exchange_due', 'platform_clearing') THEN NEW.amount_cents
            ELSE -NEW.amount_cents END
        WHERE id = NEW.account_id;
    RETURN NEW;
END $$;
CREATE TRIGGER posting_apply BEFORE INSERT ON billing_posting
    FOR EACH ROW EXECUTE FUNCTION billing_posting_apply();

CREATE OR REPLACE FUNCTION billing_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % refused (post a reversing entry)',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER journalentry_immutable BEFORE UPDATE OR DELETE ON billing_journalentry
    FOR EACH ROW EXECUTE FUNCTION billing_reject_change();
CREATE TRIGGER posting_immutable BEFORE UPDATE OR DELETE ON billing_posting
    FOR EACH ROW EXECUTE FUNCTION billing_reject_change();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON billing_posting
    FOR EACH STATEMENT EXECUTE FUNCTION billing_reject_change();
CREATE TRIGGER entry_no_truncate BEFORE TRUNCATE ON billing_journalentry
    FOR EACH STATEMENT EXECUTE FUNCTION billing_reject_change();
"""

UNDO = """
DROP TRIGGER IF EXISTS entry_no_truncate ON billing_journalentry;
DROP TRIGGER IF EXISTS ledger_no_truncate ON billing_posting;
DROP TRIGGER IF EXISTS posting_immutable ON billing_posting;
DROP TRIGGER IF EXISTS journalentry_immutable ON billing_journalentry;
DROP FUNCTION IF EXISTS billing_reject_change();
DROP TRIGGER IF EXISTS posting_apply ON billing_posting;
DROP FUNCTION IF EXISTS billing_posting_apply();
DROP TRIGGER IF EXISTS entry_balances ON billing_journalentry;
DROP FUNCTION IF EXISTS billing_entry_balanced();
DROP TRIGGER IF EXISTS posting_entry_balances ON billing_posting;
DROP FUNCTION IF EXISTS billing_posting_balanced();
DROP FUNCTION IF EXISTS billing_entry_check(uuid);
DROP POLICY IF EXISTS entry_insert ON billing_journalentry;
DROP POLICY IF EXISTS entry_read ON billing_journalentry;
ALTER TABLE billing_journalentry DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS posting_insert ON billing_posting;
DROP POLICY IF EXISTS posting_read ON billing_posting;
ALTER TABLE billing_posting DISABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS ledger_update ON billing_ledgeraccount;
DROP POLICY IF EXISTS ledger_insert ON billing_ledgeraccount;
DROP POLICY IF EXISTS ledger_read ON billing_ledgeraccount;
ALTER TABLE billing_ledgeraccount DISABLE ROW LEVEL SECURITY;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("credex", "0007_user_is_exchange_operator"),
    ]

    operations = [
        migrations.RunSQL(RULES, UNDO),
        SameOrgForeignKey("billing.Posting", "account", "billing.LedgerAccount"),
    ]
