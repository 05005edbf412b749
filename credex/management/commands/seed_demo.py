"""Demo organizations and logins (synthetic). Idempotent: a second run changes nothing."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from credex import services
from credex.models import Organization, User
from credex.tenancy import tenant_context

PASSWORD = "credex-demo-2026"
DEMO_ROSTER_SIZES = {"riverbend": 200, "lakeside": 40}

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
            ("ivy@independent.example", "Ivy", "Independent", "coordinator"),
        ],
    ),
]


def _user(email, first, last):
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email, password=PASSWORD, first_name=first, last_name=last
        )
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


class Command(BaseCommand):
    help = "Load the demo organizations and logins (synthetic data)."

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
            from screening.services.demo import seed_demo_screening

            seed_demo_screening()
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
            from credex.models import Membership

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
            from roster.services.demo import seed_demo_roster

            seed_demo_roster(org, owner_membership, count=DEMO_ROSTER_SIZES.get(slug, 40))
            # Each area adds its own synthetic rows; every seeder is idempotent.
            from committee.services import seed_demo_committee
            from enrollment.services import seed_demo_enrollment
            from roster.services.demo import seed_demo_complete_files
            from screening.nppes.services import seed_demo_nppes
            from verifications.services.demo import (
                seed_demo_extractions,
                seed_demo_payer_contacts,
                seed_demo_verifications,
            )

            seed_demo_enrollment(org, owner_membership)
            # Before the committee (a file is ready only with current verifications) and before
            # NPPES and screening (their automatic records complete the packets' checks).
            seed_demo_verifications(org, owner_membership)
            seed_demo_complete_files(org, owner_membership)
            seed_demo_committee(org, owner_membership)
            # Renewed licences "uploaded": their extraction waits for review once the worker runs.
            seed_demo_extractions(org, owner_membership)
            seed_demo_payer_contacts(org)
            seed_demo_nppes(org)
            from roster.services.inbox import inbox_generate

            inbox_generate(org=org)
