"""An account's balance moves only with a posting.

The ledger_update policy lets an organization update its own account rows, because the
posting trigger (billing_posting_apply) updates the balance in the poster's scope. Without a
guard, any UPDATE of the app role could also set a balance by hand and the ledger would no
longer equal the sum of its postings. Now the posting trigger marks its own update
(transaction-local `billing.applying`), and any other change of an account's balance,
organization or kind is refused.
"""

from django.db import migrations

GUARD = """
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
    PERFORM set_config('billing.applying', 'on', true);
    UPDATE billing_ledgeraccount
        SET balance_cents = balance_cents + CASE
            WHEN account_kind IN ('exchange_due', 'platform_clearing') THEN NEW.amount_cents
            ELSE -NEW.amount_cents END
        WHERE id = NEW.account_id;
    PERFORM set_config('billing.applying', '', true);
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION billing_account_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.organization_id IS DISTINCT FROM OLD.organization_id OR NEW.kind <> OLD.kind THEN
        RAISE EXCEPTION 'a ledger account keeps its organization and kind'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.balance_cents <> OLD.balance_cents
        AND coalesce(current_setting('billing.applying', true), '') <> 'on' THEN
        RAISE EXCEPTION 'a ledger balance moves only with a posting'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ledgeraccount_guard BEFORE UPDATE ON billing_ledgeraccount
    FOR EACH ROW EXECUTE FUNCTION billing_account_guard();
"""

UNDO = """
DROP TRIGGER IF EXISTS ledgeraccount_guard ON billing_ledgeraccount;
DROP FUNCTION IF EXISTS billing_account_guard();
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
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_ledger_rules")]

    operations = [migrations.RunSQL(GUARD, UNDO)]
