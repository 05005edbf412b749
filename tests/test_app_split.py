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
    assert (
        enrollment_receivers.dashboard_enrollments in roster_hooks.dashboard_enrollments.receivers
    )
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
