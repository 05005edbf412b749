"""Demo organizations and logins (synthetic). Idempotent: a second run changes nothing."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from credex import services
from credex.models import Membership, Organization
from credex.tenancy import tenant_context
from demo.seeders.billing import seed_demo_billing
from demo.seeders.committee import seed_demo_committee
from demo.seeders.direct import credex_login_write
from demo.seeders.enrollment import seed_demo_enrollment
from demo.seeders.exchange import OPERATOR_EMAIL, seed_demo_exchange
from demo.seeders.nppes import seed_demo_nppes
from demo.seeders.roster import seed_demo_complete_files, seed_demo_roster
from demo.seeders.screening import seed_demo_screening
from demo.seeders.verifications import (
    seed_demo_extractions,
    seed_demo_payer_contacts,
    seed_demo_verifications,
)
from roster.services.inbox import inbox_generate

PASSWORD = "credex-demo-2026"
DEMO_ROSTER_SIZES = {"riverbend": 200, "lakeside": 40}
# The exchange's other members (their votes make the quorum) and an applicant: small rosters.
SMALL_ROSTER = 8

ORGS = [
    (
        "Riverbend Health",
        "riverbend",
        [
            ("owner@riverbend.example", "Rosa", "Martinez", "owner"),
            ("admin@riverbend.example", "Adam", "Nguyen", "admin"),
            ("coordinator@riverbend.example", "Carla", "Okafor", "coordinator"),
            ("auditor@riverbend.example", "Aud", "Itor", "auditor"),
            ("ivy@independent.example", "Ivy", "Independent", "coordinator"),
        ],
    ),
    (
        "Lakeside Medical Group",
        "lakeside",
        [
            ("owner@lakeside.example", "Liam", "Baker", "owner"),
            ("coordinator@lakeside.example", "Lena", "Ortiz", "coordinator"),
            ("ivy@independent.example", "Ivy", "Independent", "coordinator"),
        ],
    ),
    ("Summit Orthopedics", "summit", [("owner@summit.example", "Sam", "Hill", "owner")]),
    ("Bayview Pediatrics", "bayview", [("owner@bayview.example", "Bea", "Shore", "owner")]),
    ("Cedar Valley Clinic", "cedar", [("owner@cedar.example", "Cy", "Dale", "owner")]),
    # A pending exchange application (the operator's console shows it).
    (
        "Northgate Family Practice",
        "northgate",
        [("owner@northgate.example", "Nia", "Gate", "owner")],
    ),
]


def _user(email, first, last):
    return credex_login_write(email, first, last, PASSWORD)


class Command(BaseCommand):
    help = "Load the demo organizations and logins (synthetic data)."
    # Read by credex.devstack through the command (found by name, as call_command finds it),
    # so the platform code imports nothing from demo.
    orgs = ORGS
    password = PASSWORD
    operator = OPERATOR_EMAIL

    def handle(self, *args, **options):
        from django.conf import settings

        # The demo invitations are accepted at once; their e-mails would only be noise.
        backend, settings.EMAIL_BACKEND = (
            settings.EMAIL_BACKEND,
            "django.core.mail.backends.locmem.EmailBackend",
        )
        try:
            for name, slug, people in ORGS:
                with transaction.atomic():
                    self._org(name, slug, people)
            # Synthetic exclusion lists with a few deliberate matches, screened once.
            seed_demo_screening()
            # The exchange across the organizations: members, releases, listings, votes,
            # trades, a dispute, an application waiting for the operator.
            with transaction.atomic():
                seed_demo_exchange()
            # Billing in states worth seeing: a trial's last week, billed, past due, a payout.
            seed_demo_billing()
        finally:
            settings.EMAIL_BACKEND = backend
        self.stdout.write(f"Demo data ready (password: {PASSWORD}).")

    def _org(self, name, slug, people):
        org = Organization.objects.filter(slug=slug).first()
        owner_email, *_ = people[0]
        owner = _user(*people[0][:3])
        if org is None:
            org = services.organization_create(name=name, owner=owner, slug=slug)
        with tenant_context(org, user_id=owner.pk):
            owner_membership = Membership.objects.select_related("user").get(user=owner)
            for email, first, last, role in people[1:]:
                user = _user(email, first, last)
                if Membership.objects.filter(user=user).exists():
                    continue
                # Members join the production way: an invitation, accepted.
                invitation = services.membership_invite(
                    org=org, actor=owner_membership, email=email, role=role
                )
                token = services._invite_token(invitation)
                services.invitation_accept(token=token, user=user)
            # A synthetic roster once the coordinators exist (does nothing if there is one).
            seed_demo_roster(org, owner_membership, count=DEMO_ROSTER_SIZES.get(slug, SMALL_ROSTER))
            # Each area adds its own synthetic rows; every seeder is idempotent.
            seed_demo_enrollment(org, owner_membership)
            # Before the committee (a file is ready only with current verifications) and before
            # NPPES and screening (their automatic records complete the packets' checks).
            seed_demo_verifications(org, owner_membership)
            seed_demo_complete_files(org, owner_membership)
            seed_demo_committee(org, owner_membership)
            # Renewed licences "uploaded": their extraction waits for review once the worker runs.
            seed_demo_extractions(org, owner_membership)
            seed_demo_payer_contacts(org, owner_membership)
            seed_demo_nppes(org)
            inbox_generate(org=org)
