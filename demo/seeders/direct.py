"""The demo's direct writes: the only rows the demo writes without a service, one helper per
app, each saying why. Everything else in demo/ goes through the apps' services.

- credex: the demo logins (no service creates a user: people sign up through allauth's forms);
- roster: the bulk roster (200 providers and ~1,600 credentials in two inserts, one audit event;
  a service call per row would audit each and make seeding take minutes) and the placeholder
  documents of the complete files (stored accepted, without the upload hooks, so no extraction
  or packet step starts for a placeholder);
- verifications: the back-dated PSV log (verified and created 45-110 days ago; the record
  service stamps now) in two bulk inserts, and the written board requests asked 12/24 days ago
  with a follow-up already sent (request_send stamps now and refuses a due date in the past).
The seeders write the audit events for these rows themselves, with the same actions.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.core.files.base import ContentFile

from credex.models import User
from roster.models import Credential, Document, Provider
from verifications.models import Verification, VerificationRequest


def credex_login_write(email: str, first: str, last: str, password: str) -> User:
    """A demo login with a verified primary address (idempotent)."""
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email, password=password, first_name=first, last_name=last
        )
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def roster_rows_write(
    *,
    providers: list[Provider] = (),
    credentials: list[Credential] = (),
    documents: list[tuple[Document, bytes]] = (),
) -> None:
    """Bulk-insert the synthetic roster; store placeholder documents (file, then row)."""
    if providers:
        Provider.objects.bulk_create(providers, batch_size=500)
    if credentials:
        Credential.objects.bulk_create(credentials, batch_size=1000)
    for document, data in documents:
        document.file.save("upload", ContentFile(data), save=False)
        document.save(force_insert=True)


def verifications_rows_write(
    *,
    verifications: list[Verification] = (),
    corrections: list[Verification] = (),
    requests: list[VerificationRequest] = (),
) -> None:
    """Insert the back-dated PSV log (originals before the corrections that supersede them)
    and the back-dated board requests."""
    if verifications:
        Verification.objects.bulk_create(verifications, batch_size=500)
    if corrections:
        Verification.objects.bulk_create(corrections, batch_size=100)
    for request in requests:
        request.save(force_insert=True)
