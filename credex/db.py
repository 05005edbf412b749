"""Reusable migration operations for tenant tables.

`EnableRLS("app_label.Model")` turns on and forces row-level security with the standard
organization policy; `SameOrgForeignKey` makes Postgres refuse a reference from a row of
one organization to a row of another (foreign-key checks bypass RLS, so the constraint
must be composite). The isolation meta-tests fail if a tenant table misses either.
"""

from __future__ import annotations

from django.db import migrations

CURRENT_ORG_SQL = "credex_current_org()"
PLATFORM_PATH_SQL = "credex_platform_path()"

# The platform path (credex.tenancy.platform_path): a transaction-local setting that the
# exchange's and the ledger's policies admit for platform reads across organizations.
CREATE_PLATFORM_PATH_FUNCTION = """
CREATE OR REPLACE FUNCTION credex_platform_path() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('app.platform_path', true), '') = 'on'
$$;
"""
DROP_PLATFORM_PATH_FUNCTION = "DROP FUNCTION IF EXISTS credex_platform_path();"


def _table(apps, model: str) -> str:
    return apps.get_model(model)._meta.db_table


class EnableRLS(migrations.operations.base.Operation):
    """ENABLE + FORCE row-level security with the organization policy on one tenant table."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model: str, read_also: str | None = None):
        # read_also: an extra SQL condition that widens SELECT only (e.g. a user's own rows).
        self.model = model
        self.read_also = read_also

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        table = schema_editor.quote_name(_table(to_state.apps, self.model))
        statements = [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        ]
        own = f"organization_id = {CURRENT_ORG_SQL}"
        if self.read_also:
            statements += [
                f"CREATE POLICY tenant_read ON {table} FOR SELECT "
                f"USING ({own} OR ({self.read_also}))",
                f"CREATE POLICY tenant_insert ON {table} FOR INSERT WITH CHECK ({own})",
                f"CREATE POLICY tenant_update ON {table} FOR UPDATE "
                f"USING ({own}) WITH CHECK ({own})",
                f"CREATE POLICY tenant_delete ON {table} FOR DELETE USING ({own})",
            ]
        else:
            statements.append(
                f"CREATE POLICY tenant_isolation ON {table} USING ({own}) WITH CHECK ({own})"
            )
        for sql in statements:
            schema_editor.execute(sql)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        table = schema_editor.quote_name(_table(from_state.apps, self.model))
        for name in (
            "tenant_isolation",
            "tenant_read",
            "tenant_insert",
            "tenant_update",
            "tenant_delete",
        ):
            schema_editor.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self):
        return f"Enable and force row-level security on {self.model}"


class SameOrgForeignKey(migrations.operations.base.Operation):
    """A composite (organization_id, fk) -> (organization_id, id) foreign key."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model: str, field: str, to: str):
        self.model, self.field, self.to = model, field, to

    def state_forwards(self, app_label, state):
        pass

    def _names(self, apps):
        child = _table(apps, self.model)
        parent = _table(apps, self.to)
        column = apps.get_model(self.model)._meta.get_field(self.field).column
        return child, parent, column

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        child, parent, column = self._names(to_state.apps)
        q = schema_editor.quote_name
        unique = f"{parent}_org_id_uniq"[:63]
        fk = f"{child}_{column}_same_org"[:63]
        schema_editor.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = '{unique}') "
            f"THEN ALTER TABLE {q(parent)} ADD CONSTRAINT {q(unique)} "
            f"UNIQUE (organization_id, id); "
            f"END IF; END $$"
        )
        schema_editor.execute(
            f"ALTER TABLE {q(child)} ADD CONSTRAINT {q(fk)} "
            f"FOREIGN KEY (organization_id, {q(column)}) "
            f"REFERENCES {q(parent)} (organization_id, id)"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        child, parent, column = self._names(from_state.apps)
        fk = f"{child}_{column}_same_org"[:63]
        schema_editor.execute(
            f"ALTER TABLE {schema_editor.quote_name(child)} DROP CONSTRAINT IF EXISTS "
            f"{schema_editor.quote_name(fk)}"
        )

    def describe(self):
        return f"Same-organization foreign key {self.model}.{self.field} -> {self.to}"


CREATE_FUNCTIONS = """
CREATE OR REPLACE FUNCTION credex_current_org() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.current_org', true), '')::uuid $$;
CREATE OR REPLACE FUNCTION credex_current_user() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.current_user', true), '')::uuid $$;
"""
DROP_FUNCTIONS = (
    "DROP FUNCTION IF EXISTS credex_current_org(); DROP FUNCTION IF EXISTS credex_current_user();"
)
