"""The enrollment and committee apps sit above verifications, screening and roster: those
import neither; what they need from them comes through hook points, registered in ready()."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOWER_APPS = ("roster", "screening", "verifications", "audit", "credex")
UPPER_APPS = ("enrollment", "committee")
# The project's URL conf mounts every app, and the demo command (moving to demo/) seeds them.
MAY_IMPORT_UPWARD = {"credex/urls.py", "credex/management/commands/seed_demo.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_no_lower_app_imports_enrollment_or_committee():
    wrong = []
    for app in LOWER_APPS:
        for path in (ROOT / app).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel or rel in MAY_IMPORT_UPWARD:
                continue
            wrong += [f"{rel} imports {m}" for m in _imports(path) & set(UPPER_APPS)]
    assert wrong == []


def test_enrollment_and_committee_do_not_import_each_other():
    wrong = []
    for app, other in (("enrollment", "committee"), ("committee", "enrollment")):
        for path in (ROOT / app).rglob("*.py"):
            if other in _imports(path):
                wrong.append(path.relative_to(ROOT).as_posix())
    assert wrong == []


def test_the_upper_apps_answer_the_hook_points_of_the_apps_below():
    from committee import receivers as committee_receivers
    from enrollment import receivers as enrollment_receivers
    from roster import hooks as roster_hooks
    from verifications import hooks as verifications_hooks

    assert enrollment_receivers.contract_renewals in roster_hooks.contract_renewals.receivers
    # The payer-enrollment card is enrollment's own block on the dashboard registry.
    from credex import dashboard

    assert "enrollments" in [b.name for b in dashboard.blocks()]
    assert enrollment_receivers.payer_contacts in verifications_hooks.payer_contacts.receivers
    assert (
        committee_receivers.package_committee_review
        in verifications_hooks.package_committee_review.receivers
    )


@pytest.mark.django_db
def test_the_moved_models_keep_their_tables_and_audit_names():
    from committee.models import CommitteeReview
    from enrollment.models import Enrollment, Payer, PayerContract

    for model, table in (
        (Payer, "roster_payer"),
        (Enrollment, "roster_enrollment"),
        (PayerContract, "roster_payercontract"),
        (CommitteeReview, "roster_committeereview"),
    ):
        assert model._meta.db_table == table
        assert model.audit_target_type == f"roster.{table.removeprefix('roster_')}"


@pytest.mark.django_db
def test_payer_contacts_moved_to_enrollment_keep_their_table_audit_names_and_share_link(
    tenant_a,
):
    """The payer contact left verifications for enrollment: same table and constraint, audit
    events as before (action and target type), and a package share still points at it."""
    from audit.models import AuditEvent
    from credex.tenancy import tenant_context
    from enrollment.models import PayerContact
    from enrollment.services import payer_contact_add, payer_create
    from verifications.models import PackageShare
    from verifications.selectors.packages import contact_get, payers_with_contacts

    assert PayerContact._meta.db_table == "verifications_payercontact"
    assert [c.name for c in PayerContact._meta.constraints] == ["payer_contact_email_unique"]
    assert PackageShare._meta.get_field("contact").related_model is PayerContact
    owner = tenant_a.membership(tenant_a.owner)
    with tenant_context(tenant_a.org):
        payer = payer_create(org=tenant_a.org, actor=owner, name="Blue Plan")
        contact = payer_contact_add(
            org=tenant_a.org, actor=owner, payer=payer, name="Rita", email="rita@blue.example"
        )
        # verifications reads the contacts through its hook point (enrollment answers).
        assert contact_get(org=tenant_a.org, contact_id=contact.pk) == contact
        (shown,) = payers_with_contacts(org=tenant_a.org)
        assert shown.pk == payer.pk and shown.contact_list == [contact]
        event = AuditEvent.objects.get(action="verifications.payer_contact.added")
    assert event.target_type == "verifications.payercontact"
    assert event.target_id == str(contact.pk)
