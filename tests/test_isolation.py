"""Tenancy walls: scoped manager, RLS enabled + forced, no leaks through settings or FKs."""

from __future__ import annotations

import uuid

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from credex.models import ApiKey, Invitation, Membership
from credex.services import api_key_create, membership_invite
from credex.tenancy import NoActiveOrganization, TenantManager, tenant_context

pytestmark = pytest.mark.external

# Tables with an organization column whose manager is deliberately not the tenant manager,
# each with the reason. Their RLS is still asserted below.
NOT_TENANT_MANAGED = {
    "audit.AuditEvent": "platform events have no organization; reads go through selectors",
    "billing.LedgerAccount": "the platform's accounts have no organization (platform path only)",
    "billing.Posting": "postings to the platform's accounts have no organization",
    "billing.StripeEvent": "a webhook event arrives before its organization is known",
}


def tenant_models():
    return [
        m
        for m in apps.get_models()
        if any(f.name == "organization" for f in m._meta.concrete_fields)
    ]


def rls_flags(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [table]
        )
        return cursor.fetchone()


def test_there_are_tenant_models_to_check():
    labels = {m._meta.label for m in tenant_models()}
    assert {"credex.Membership", "credex.Invitation", "credex.ApiKey", "audit.AuditEvent"} <= labels


@pytest.mark.django_db
@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label)
def test_every_tenant_table_has_rls_enabled_and_forced(model):
    assert rls_flags(model._meta.db_table) == (True, True), model._meta.label
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_policies WHERE tablename = %s", [model._meta.db_table]
        )
        assert cursor.fetchone()[0] >= 1


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label)
def test_every_tenant_model_uses_the_scoped_manager_and_uuid_ids(model):
    assert (
        isinstance(model._meta.pk, type(model._meta.pk))
        and model._meta.pk.get_internal_type() == "UUIDField"
    ), f"{model._meta.label} pk is not a UUID"
    org_field = model._meta.get_field("organization")
    if model._meta.label in NOT_TENANT_MANAGED:
        return
    assert not org_field.null, f"{model._meta.label}.organization must be non-null"
    assert isinstance(model._default_manager, TenantManager), model._meta.label
    assert isinstance(model._base_manager, TenantManager), model._meta.label


@pytest.mark.django_db
def test_every_reference_between_tenant_rows_is_constrained_to_one_organization():
    tenant_labels = {m._meta.label for m in tenant_models()}
    missing = []
    with connection.cursor() as cursor:
        for model in tenant_models():
            for field in model._meta.concrete_fields:
                if not field.is_relation or field.name == "organization":
                    continue
                if field.related_model._meta.label not in tenant_labels:
                    continue
                name = f"{model._meta.db_table}_{field.column}_same_org"[:63]
                cursor.execute(
                    "SELECT 1 FROM pg_constraint WHERE conname = %s AND contype = 'f'", [name]
                )
                if cursor.fetchone() is None:
                    missing.append(f"{model._meta.label}.{field.name}")
    assert missing == []


@pytest.mark.django_db
def test_the_application_role_is_neither_superuser_nor_bypassrls():
    from credex.checks import app_role_problems

    assert app_role_problems() == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] != "postgres"


def test_querying_a_tenant_model_with_no_active_organization_raises(db):
    with pytest.raises(NoActiveOrganization):
        list(Membership.objects.all())
    with pytest.raises(NoActiveOrganization):
        Invitation.objects.count()


@pytest.fixture
def both_tenants_with_rows(tenant_a, tenant_b):
    for t in (tenant_a, tenant_b):
        with tenant_context(t.org):
            owner = t.membership(t.owner)
            membership_invite(
                org=t.org, actor=owner, email=f"new@{t.org.slug}.example", role="coordinator"
            )
            api_key_create(org=t.org, actor=owner, name="integration")
    from tests.factories import populate_every_tenant_table

    populate_every_tenant_table(tenant_a, seed=1)
    populate_every_tenant_table(tenant_b, seed=2)
    return tenant_a, tenant_b


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m._meta.label)
def test_raw_sql_as_the_app_role_in_org_a_sees_no_row_of_org_b(model, both_tenants_with_rows):
    a, b = both_tenants_with_rows
    table = model._meta.db_table
    with tenant_context(a.org), connection.cursor() as cursor:
        cursor.execute(f"SELECT organization_id FROM {table}")  # no WHERE: RLS alone filters
        orgs = {row[0] for row in cursor.fetchall()}
    assert b.org.pk not in orgs
    assert orgs == {a.org.pk}, f"{table}: org A's own rows must be visible (test would be void)"


def test_without_context_raw_sql_sees_no_tenant_rows(both_tenants_with_rows):
    with transaction.atomic(), connection.cursor() as cursor:
        for model in tenant_models():
            cursor.execute(f"SELECT count(*) FROM {model._meta.db_table}")
            assert cursor.fetchone()[0] == 0, model._meta.label


def test_rls_refuses_writing_a_row_into_another_organization(both_tenants_with_rows):
    a, b = both_tenants_with_rows
    from django.db.utils import ProgrammingError

    with pytest.raises(ProgrammingError, match="row-level security"):
        with tenant_context(a.org), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO credex_invitation (id, organization_id, email, role, created_at, "
                "expires_at) VALUES (%s, %s, 'x@y.example', 'auditor', now(), now())",
                [uuid.uuid4(), b.org.pk],
            )


def test_organization_setting_does_not_survive_the_transaction(committed_tenant):
    with tenant_context(committed_tenant.org):
        assert Membership.objects.count() == 4
    # Same pooled connection, next "request": nothing of org A is visible.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.current_org', true)")
        assert cursor.fetchone()[0] in (None, "")
        cursor.execute("SELECT count(*) FROM credex_membership")
        assert cursor.fetchone()[0] == 0


def test_a_row_of_org_a_cannot_reference_a_row_of_org_b(tenant_a, tenant_b):
    b_owner = tenant_b.membership(tenant_b.owner)
    with pytest.raises(IntegrityError, match="same_org"), tenant_context(tenant_a.org):
        Invitation.objects.create(
            organization=tenant_a.org,
            email="x@a.example",
            role="auditor",
            invited_by=b_owner,
            expires_at="2030-01-01T00:00:00Z",
        )


def test_a_row_cannot_be_saved_into_another_organization_through_the_orm(tenant_a, tenant_b):
    with pytest.raises(NoActiveOrganization), tenant_context(tenant_a.org):
        ApiKey(organization=tenant_b.org, name="x", prefix="p", key_hash="h").save()


def test_unique_constraints_are_per_organization_and_ids_are_uuids(tenant_a, tenant_b):
    # The same e-mail can be a member of both organizations: uniqueness is per org.
    from tests.conftest import add_member

    add_member(tenant_b.org, tenant_a.coordinator, "coordinator")
    with tenant_context(tenant_b.org):
        m = Membership.objects.get(user=tenant_a.coordinator)
    assert isinstance(m.pk, uuid.UUID)
