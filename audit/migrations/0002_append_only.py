"""Append-only audit table: RLS per organization chain and plain triggers.

The triggers are ordinary (not pgtrigger's, which any session can skip through a setting);
only the table owner (ALTER TABLE ... DISABLE TRIGGER) or a superuser
(session_replication_role) can get past them, and `audit_verify` catches what they change.
"""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();

ALTER TABLE audit_auditevent ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_auditevent FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_read ON audit_auditevent FOR SELECT USING (
    organization_id = credex_current_org()
    OR (organization_id IS NULL AND current_setting('app.audit_platform', true) = 'on'));
CREATE POLICY audit_append ON audit_auditevent FOR INSERT WITH CHECK (
    organization_id = credex_current_org()
    OR (organization_id IS NULL AND current_setting('app.audit_platform', true) = 'on'));
"""

REVERSE = """
DROP POLICY IF EXISTS audit_read ON audit_auditevent;
DROP POLICY IF EXISTS audit_append ON audit_auditevent;
ALTER TABLE audit_auditevent NO FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_auditevent DISABLE ROW LEVEL SECURITY;
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_no_update_delete ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_reject_change();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial"), ("credex", "0002_tenancy_rls")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
