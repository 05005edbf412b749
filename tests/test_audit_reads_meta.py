"""Meta-test: every route that shows provider data records a read (issue 9, item 11).

The route list is built from the URLconf, so a new route joins by itself:

- every route whose pattern takes a `provider_id` is walked: a GET as a coordinator of the
  tenant, with a real provider, must answer 200 and write exactly one read event naming that
  provider (or 405: the route only writes, and writes audit themselves);
- routes keyed by another id or listing providers that show provider data are walked the
  same way from WALKED (explicit, with how to build the URL);
- every other route must be named in NOT_PROVIDER_DATA, AUDITED_ELSEWHERE or KNOWN_GAPS,
  each with a reason. A route in none of them fails `test_every_route_is_classified`, so
  whoever adds a page or endpoint has to decide whether it shows provider data.

The rule itself is in roster.services.providers.provider_record_read.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import URLPattern, URLResolver, reverse

from audit.models import AuditEvent
from committee.models import CommitteeReview
from credex.tenancy import tenant_context
from credex.urls import urlpatterns
from enrollment.models import Enrollment
from exchange.models import ClinicianRelease
from exchange.models import Order as ExchangeOrder
from roster.models import Credential, Document
from screening.models import ScreeningHit
from tests.factories import make_provider, populate_every_tenant_table
from verifications.models import (
    CredentialPackage,
    ExtractionSuggestion,
    ReverificationPacket,
    Verification,
)

pytestmark = pytest.mark.django_db

# Events that record a read of a provider's data. The provider is named by the target (a
# roster.provider), by data["provider"] (a document) or in data["providers"] (a list).
READ_ACTIONS = {
    "roster.provider.viewed",  # the rule: one provider's file or a part of it
    "roster.provider.list_viewed",  # the rule: a list, naming the providers shown
    "roster.provider.documents_viewed",  # a provider's document list (older, kept)
    "roster.document.viewed",  # one document's metadata (names its provider in data)
    "roster.document.downloaded",  # one document's bytes (names its provider in data)
    "roster.document.previewed",  # a picture of one document's first page (names its provider)
    "roster.caqh.exported",  # the CAQH field set of a provider
}

# URL prefixes that are not the application's pages (Django admin, allauth's account pages,
# the OpenAPI schema and its viewer).
SKIPPED_PREFIXES = ("admin/", "accounts/", "api/schema/", "api/docs/")


# --- routes keyed by another id, or lists, that show provider data -----------------------------
def _one(model, world, **filters):
    with tenant_context(world["org"]):
        return model.objects.filter(organization=world["org"], **filters).get().pk


WALKED: dict[str, Callable[[dict], dict]] = {
    # lists of providers (one event naming the providers on the page)
    "providers": lambda w: {},
    "api_providers": lambda w: {},
    # one credential
    "api_credential": lambda w: {"credential_id": _one(Credential, w)},
    # what was read from a document, a packet, a package, a screening hit
    "extraction_detail": lambda w: {"suggestion_id": _one(ExtractionSuggestion, w)},
    "api_extraction": lambda w: {"suggestion_id": _one(ExtractionSuggestion, w)},
    "packet_detail": lambda w: {"packet_id": _one(ReverificationPacket, w)},
    "api_packet": lambda w: {"packet_id": _one(ReverificationPacket, w)},
    "package_detail": lambda w: {"package_id": _one(CredentialPackage, w)},
    "api_package": lambda w: {"package_id": _one(CredentialPackage, w)},
    "screening_hit": lambda w: {"hit_id": _one(ScreeningHit, w)},
    # one enrollment, committee review, verification of the provider
    "enrollment_detail": lambda w: {"enrollment_id": _one(Enrollment, w)},
    "api_enrollment": lambda w: {"enrollment_id": _one(Enrollment, w)},
    "committee_review": lambda w: {"review_id": _one(CommitteeReview, w)},
    "api_verification": lambda w: {
        "verification_id": _one(Verification, w, supersedes__isnull=False)
    },
    # API worklists: one event naming the providers on the page
    "api_enrollments": lambda w: {},
    "api_committee_reviews": lambda w: {},
    "api_inbox": lambda w: {},
    "api_screening_hits": lambda w: {},
    "api_nppes_mismatches": lambda w: {},
    "api_nppes_checks": lambda w: {},
    "api_verification_queue": lambda w: {},
    "api_packets": lambda w: {},
    "api_extractions": lambda w: {},
    "api_packages": lambda w: {},
    # worklist pages: one event naming the providers on the page
    "inbox": lambda w: {},
    "documents_review": lambda w: {},
    "enrollments": lambda w: {},
    "committee": lambda w: {},
    "screening": lambda w: {},
    "nppes": lambda w: {},
    "psv_queue": lambda w: {},
    "packets": lambda w: {},
    "extractions": lambda w: {},
    "packages": lambda w: {},
    # the exchange: the organization's own listings (one event naming their providers)
    "exchange_listings": lambda w: {},
    "api_exchange_listings": lambda w: {},
    # the exchange: orders it bought (the clinician is its own provider) and its releases
    "exchange_orders": lambda w: {},
    "api_exchange_orders": lambda w: {},
    "exchange_order": lambda w: {"order_id": _one(ExchangeOrder, w)},
    "api_exchange_order": lambda w: {"order_id": _one(ExchangeOrder, w)},
    "exchange_releases": lambda w: {},
    "api_exchange_releases": lambda w: {},
    "exchange_release": lambda w: {"release_id": _one(ClinicianRelease, w)},
    "api_exchange_release": lambda w: {"release_id": _one(ClinicianRelease, w)},
    # one document (metadata, bytes)
    "api_documents_detail": lambda w: {"document_id": _one(Document, w)},
    "api_documents_download": lambda w: {"document_id": _one(Document, w)},
    "document_download": lambda w: {"document_id": _one(Document, w)},
    "document_preview": lambda w: {"document_id": _one(Document, w)},
}

# Query strings for walked lists whose default filter hides the world's rows (the factory's NPPES
# mismatch is dismissed and its check is not a failure): an empty list shows nobody, records
# nothing, and would prove nothing.
WALKED_QUERY = {
    "nppes": {"status": "all"},
    "api_nppes_mismatches": {"status": "all"},
    "api_nppes_checks": {"outcome": "all"},
}

# Extra kwargs for provider_id routes that take a second id.
PROVIDER_ROUTE_KWARGS: dict[str, Callable[[dict], dict]] = {
    "credential_edit": lambda w: {"credential_id": _one(Credential, w)},
}

# --- routes that show no provider's data -------------------------------------------------------
NOT_PROVIDER_DATA = {
    # public and account plumbing
    "home": "landing page or redirect to the dashboard",
    "healthz": "liveness probe",
    "stripe_webhook": "Stripe's signed webhook: billing events, audited as billing.webhook_*",
    "billing_overview": "the plan, seat count and invoices (counts, no provider data)",
    "billing_change": "billing changes, audited as billing.*",
    "api_billing": "the plan, seat count and settings (counts, no provider data)",
    "api_billing_invoices": "invoices and their lines (amounts, no provider data)",
    "api_billing_checkout": "a Stripe Checkout URL, audited as billing.checkout_started",
    "api_billing_payouts": "exchange payouts (amounts), requests audited as billing.payout_*",
    "pricing": "the public pricing page: plans, tiers and the fee rule (no tenant data)",
    "billing_invoice": "one invoice and its lines (amounts, no provider data)",
    "billing_invoice_pdf": "one invoice as a PDF (amounts), audited as billing.invoice_downloaded",
    "api_billing_invoice": "one invoice and its lines (amounts, no provider data)",
    "billing_statement": "ledger postings and charges (amounts and order ids, no provider "
    "data); the CSV download is audited as billing.statement_exported",
    "api_billing_statement": "ledger postings and charges (amounts, order ids: no provider data)",
    "client_rates": "the independent coordinator's rate card (POST; audited as "
    "billing.coordinator_rates.*)",
    "api_billing_rates": "the independent coordinator's rate card (amounts)",
    "organization_new": "creates an organization",
    "invitation_accept": "an invitation to join an organization",
    # organization settings and members (people of the organization, not providers)
    "organization_settings": "organization settings",
    "members": "members of the organization",
    "member_role": "changes a member's role (POST)",
    "member_remove": "removes a member (GET: the confirmation with open-work counts; POST)",
    "invitation_revoke": "revokes an invitation (POST)",
    "api_keys": "API keys page",
    "api_key_revoke": "revokes an API key (POST)",
    "api_me": "the signed-in user",
    "api_organization": "the organization",
    "api_members": "members",
    "api_member": "one member",
    "api_member_removal_preview": "what removing a member would reassign (counts)",
    "api_invitations": "invitations",
    "api_invitation": "one invitation",
    "api_keys_list": "API keys",
    "api_key": "one API key",
    # the audit log shows ids and actions, and reading it is itself audited (audit.exported)
    "audit_log": "the audit log (ids, not provider data)",
    "audit_export": "the audit export, recorded as audit.exported",
    "api_audit_events": "the audit log (ids, not provider data)",
    # roster settings and forms that show no existing provider
    "provider_new": "an empty form for a new provider",
    "providers_bulk_assign": "assigns a coordinator (POST; writes audit per provider)",
    "taxonomy_options": "the NUCC taxonomy list",
    "provider_requirements": "credential requirements per provider type",
    "provider_requirements_type": "credential requirements of one provider type",
    "inbox_bulk": "bulk inbox action (POST)",
    "inbox_snooze": "inbox action (POST)",
    "inbox_dismiss": "inbox action (POST)",
    "inbox_resolve": "inbox action (POST)",
    "inbox_undo": "inbox action (POST)",
    "api_inbox_undo": "inbox action (POST)",
    "api_inbox_snooze": "inbox action (POST)",
    "api_inbox_dismiss": "inbox action (POST)",
    "api_inbox_resolve": "inbox action (POST)",
    "documents_bulk_accept": "bulk document review (POST)",
    "document_review": "document review decision (POST)",
    "api_documents_review": "document review decision (POST)",
    "upload_link_revoke": "revokes an upload link (POST)",
    "imports": "import jobs (file names and counts)",
    "api_imports": "import jobs (file names and counts)",
    "enrollment_new": "an empty enrollment form",
    "enrollment_provider_search": "names and NPIs for the enrollment form's provider picker",
    "enrollment_transition": "enrollment step (POST)",
    "enrollment_edit": "enrollment details (POST)",
    "enrollment_note": "enrollment note (POST)",
    "api_enrollment_transition": "enrollment step (POST)",
    "payers": "payers",
    "payer_new": "a new payer",
    "payer_detail": "one payer and its contracts",
    "payer_contract_new": "a new contract",
    "payer_contract_edit": "one payer contract",
    "api_payers": "payers",
    "api_payer": "one payer",
    "api_payer_contracts": "payer contracts",
    "api_payer_contract": "one payer contract",
    "committee_mark_ready": "marks providers ready (POST)",
    "committee_schedule": "schedules a review (POST)",
    "committee_notified": "records a notification (POST)",
    "api_committee_decision": "committee decision (POST)",
    "api_committee_notified": "records a notification (POST)",
    # screening and NPPES plumbing
    "screening_run_start": "starts a screening run (POST)",
    "screening_hit_confirm": "hit decision (POST)",
    "screening_hit_clear": "hit decision (POST)",
    "screening_datasets": "exclusion dataset versions",
    "api_screening_hit_confirm": "hit decision (POST)",
    "api_screening_hit_clear": "hit decision (POST)",
    "api_screening_datasets": "exclusion dataset versions",
    "nppes_lookup": "looks up an NPI in the public registry (not a provider of ours)",
    "nppes_refresh": "starts an NPPES refresh (POST)",
    "nppes_bulk_dismiss": "mismatch decisions (POST)",
    "nppes_accept": "mismatch decision (POST)",
    "nppes_dismiss": "mismatch decision (POST)",
    "api_nppes_mismatch_accept": "mismatch decision (POST)",
    "api_nppes_mismatch_dismiss": "mismatch decision (POST)",
    "api_nppes_refresh": "starts an NPPES refresh (POST)",
    "api_nppes_lookup": "looks up an NPI in the public registry (not a provider of ours)",
    # verifications plumbing
    "psv_correct": "corrects a verification (POST)",
    "psv_request_follow_up": "request follow-up (POST)",
    "psv_request_cancel": "request cancel (POST)",
    "psv_assign": "assigns queue rows (POST)",
    "api_verification_correct": "corrects a verification (POST)",
    "api_verification_requests": "opens a request (POST only; audited as a write)",
    "api_verification_request_send": "sends a request (POST)",
    "api_verification_request_follow_up": "request follow-up (POST)",
    "api_verification_request_cancel": "request cancel (POST)",
    "packets_bulk": "bulk packet start (POST)",
    "packets_bulk_status": "bulk start progress (counts)",
    "packet_cancel": "cancels a packet (POST)",
    "api_packets_bulk": "bulk packet start (POST)",
    "api_packets_bulk_status": "bulk start progress (counts)",
    "api_packet_cancel": "cancels a packet (POST)",
    "extraction_decide": "extraction decision (POST)",
    "api_extraction_approve": "extraction decision (POST)",
    "api_extraction_correct": "extraction decision (POST)",
    "api_extraction_reject": "extraction decision (POST)",
    "payer_contacts": "payer contacts (people at payers)",
    "payer_contact_remove": "removes a payer contact (POST)",
    "api_payer_contacts": "payer contacts (people at payers)",
    "api_payer_contact": "one payer contact",
    "package_share": "shares a package (POST)",
    "package_share_revoke": "revokes a share (POST)",
    "api_share_revoke": "revokes a share (POST)",
    # exchange receipts
    "api_exchange_receipt_keys": "the public receipt keys",
    "api_exchange_receipts_verify": "checks a receipt the caller sends (a verdict, no record)",
    # exchange prices: rates and votes per verification type, no clinician
    "exchange_pricing": "market rates and the organization's price votes",
    "exchange_price_vote": "casts a price vote (POST; audited)",
    "operator_rates": "market rates, votes and settings (the operator's read is audited)",
    "api_exchange_price_votes": "the organization's price votes",
    "api_exchange_market_rates": "market rates, bands and fees",
    "exchange_requirements": "the organization's requirements profile",
    "api_exchange_requirements": "the organization's requirements profile",
    "api_exchange_listings_bulk": "starts a bulk listing (POST)",
    "api_exchange_listing_batch": "a bulk listing's counts",
    "api_exchange_listing_pause": "listing action (POST, audited)",
    "api_exchange_listing_resume": "listing action (POST, audited)",
    "api_exchange_listing_withdraw": "listing action (POST, audited)",
    "exchange_membership": "the organization's exchange application and accreditations",
    "api_exchange_membership": "the organization's exchange application and accreditations",
    "api_exchange_purchases": "buys a listing (POST; exchange.order.purchased)",
    "exchange_order_rate": "rates a seller (POST; audited)",
    "api_exchange_order_rating": "rates a seller (POST; audited)",
    "exchange_order_dispute": "opens a dispute (POST; audited)",
    "exchange_release_revoke": "revokes a release (POST; audited)",
    "api_exchange_release_revoke": "revokes a release (POST; audited)",
    # the operator's console: organizations, accreditations, ledger and volume figures
    "operator_home": "membership applications (organizations, not providers)",
    "operator_application": "one organization's application",
    "operator_approve": "a decision (POST; audited in both chains)",
    "operator_reject": "a decision (POST; audited in both chains)",
    "operator_request_info": "a decision (POST; audited in both chains)",
    "operator_suspend": "a decision (POST; audited in both chains)",
    "operator_reinstate": "a decision (POST; audited in both chains)",
    "operator_evidence": "an accreditation certificate (exchange.accreditation.evidence_read)",
    "operator_standing": "members' accreditation standing",
    "operator_volume": "trade counts and fees by period",
    "operator_ledger": "the trial balance",
}

# --- routes that show provider data and record it with their own event -------------------------
AUDITED_ELSEWHERE = {
    "billing_seats": "the seat providers (owners/admins/auditors only); one "
    "roster.provider.list_viewed naming them (test_billing_pages)",
    "upload_link_public": "the provider's own link; roster.upload_link.viewed (test_documents)",
    "package_share_public": "a payer's link; verifications.share.viewed (test_package_shares)",
    "package_share_download": "verifications.share.downloaded (test_package_shares)",
    "package_download": "verifications.package.downloaded; 409 until built (test_packages)",
    "api_package_download": "verifications.package.downloaded; 409 until built",
    "psv_evidence_download": "verifications.evidence.downloaded (test_psv_queue)",
    "api_verification_evidence_download": "verifications.evidence.downloaded",
    "import_errors_csv": "roster.import.errors_downloaded (rows of the uploaded file)",
    # exchange purchases: exchange.receipt.viewed / exchange.record.downloaded (naming the
    # order; the seller holds no provider row to name) (test_exchange_receipts)
    "exchange_order_receipt": "exchange.receipt.viewed, or exchange.record.downloaded",
    "exchange_order_packet": "exchange.record.downloaded",
    "exchange_order_json": "exchange.record.downloaded",
    "api_exchange_order_receipt": "exchange.record.downloaded",
    "api_exchange_order_record": "exchange.record.downloaded",
    "api_exchange_order_packet": "exchange.record.downloaded",
    "exchange_search": "other members' listings; one list read naming the roster providers "
    "marked 'on your roster' (test_exchange_search)",
    "api_exchange_search": "as exchange_search (test_exchange_search)",
    "exchange_release_document": "exchange.release.document_downloaded (test_exchange_releases)",
    "release_public": "the clinician's own signing link; exchange.release_request.viewed "
    "(test_exchange_releases)",
    # The independent coordinator's invoice spans her clients: one list read in each client's
    # chain naming the providers shown, or billing.client_invoice.exported naming them; the
    # walk's coordinator serves one organization and is refused (test_billing_coordinator).
    "client_invoice": "one roster.provider.list_viewed per client chain (test_billing_coordinator)",
    "client_invoice_export": "billing.client_invoice.exported per client chain, naming the "
    "providers (test_billing_coordinator)",
    "api_billing_client_invoice": "one roster.provider.list_viewed per client chain",
}

# --- routes that show provider data and do NOT record a read yet -------------------------------
# Listed so the gap is visible, not silently excluded. By the rule each should record one read
# naming the providers shown; remove a route from here when it does (and add it to WALKED).
KNOWN_GAPS = {
    # The exchange: pages that name clinicians among other data and record no read yet.
    "exchange_home": "the offers for the roster's clinicians (names, NPIs)",
    "exchange_buy": "the confirmation page names the clinician on the roster",
    "exchange_release_record": "the form's picker lists the roster's providers",
    "exchange_release_esign": "the form's picker lists the roster's providers",
    "exchange_disputes": "disputes name the order's clinician",
    "api_exchange_disputes": "disputes name the order's clinician",
    "exchange_statement": "postings name the orders (clinician names in the memo)",
    "api_exchange_statement": "postings name the orders",
    "operator_disputes": "the operator's disputes name the clinicians (platform path)",
    # Summaries that name providers among other data; which providers are "shown" needs the
    # summary's sections walked (the dashboard's query count is pinned; cross-org spans chains).
    "dashboard": "counts and the next expiring credentials, with provider names",
    "cross_org_expiring": "expiring credentials across the user's organizations, one chain each",
    # Rows of an uploaded CSV (names and NPIs as typed), which may not match a provider yet.
    "import_detail": "an import job's rows",
    "api_import": "an import job's rows",
    # Progress of a run or build, polled every second or so by htmx or an API client: counts,
    # and the name/NPI or id of the single provider when the run is for one. One event per
    # poll would flood the chain; this needs a decision (e.g. once per run and viewer).
    "screening_run": "a screening run's progress and counts (polled)",
    "api_screening_runs": "screening runs (the provider id of a single-provider run)",
    "api_screening_run": "a screening run's progress (polled)",
    "nppes_run": "an NPPES refresh's progress (polled)",
    "api_nppes_run": "an NPPES refresh's progress (polled)",
    "package_progress": "a package build's progress (polled every second)",
    # A package's shares: payer contacts and dates, under the package of one provider.
    "api_package_shares": "one package's shares",
}


# --- the URLconf walk ---------------------------------------------------------------------------
def _walk(patterns, prefix="", kwargs=frozenset()):
    for p in patterns:
        names = set(kwargs)
        pattern = p.pattern
        names |= set(getattr(pattern, "converters", {}) or {})
        names |= set(pattern.regex.groupindex)
        route = prefix + str(pattern)
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, route, frozenset(names))
        elif isinstance(p, URLPattern):
            yield route, p.name, frozenset(names)


def routes() -> list[tuple[str, str, frozenset]]:
    found = [
        (route, name, kwargs)
        for route, name, kwargs in _walk(urlpatterns)
        if not route.startswith(SKIPPED_PREFIXES)
    ]
    assert all(name for _, name, _ in found), [r for r, n, _ in found if not n]
    return found


def provider_routes() -> list[str]:
    return sorted({name for _, name, kwargs in routes() if "provider_id" in kwargs})


def test_every_route_is_classified():
    """A new page or endpoint fails here until someone decides whether it shows provider data."""
    lists = {
        "walked": set(WALKED),
        "not provider data": set(NOT_PROVIDER_DATA),
        "audited elsewhere": set(AUDITED_ELSEWHERE),
        "known gaps": set(KNOWN_GAPS),
    }
    provider = set(provider_routes())
    all_names = {name for _, name, _ in routes()}
    classified = provider.union(*lists.values())
    assert all_names - classified == set(), "classify these routes in this module"
    # Each name in at most one list, and no stale names.
    seen: dict[str, str] = {}
    for label, names in [("provider_id routes", provider), *lists.items()]:
        for name in names:
            assert name not in seen, f"{name} is in both {seen[name]} and {label}"
            seen[name] = label
    assert classified - all_names == set(), "these names are not routes any more"


@pytest.fixture
def world(tenant_a):
    provider = populate_every_tenant_table(tenant_a, seed=41)
    # A second provider of the tenant that no route below names: a read must not name it.
    make_provider(tenant_a.org, seed=42)
    return {"org": tenant_a.org, "provider": provider}


def _head(org) -> int:
    with tenant_context(org):
        last = AuditEvent.objects.filter(organization=org).order_by("-seq").first()
    return last.seq if last else 0


def _written(org, seq) -> list[AuditEvent]:
    with tenant_context(org):
        return list(AuditEvent.objects.filter(organization=org, seq__gt=seq).order_by("seq"))


def _names(event: AuditEvent) -> set[str]:
    named = set(event.data.get("providers") or [])
    if event.target_type == "roster.provider":
        named.add(event.target_id)
    if event.data.get("provider"):
        named.add(event.data["provider"])
    return named - {""}


def _get(client, tenant, name, kwargs, query=None):
    route = next(r for r, n, _ in routes() if n == name)
    if route.startswith("o/"):
        kwargs = {"org_slug": tenant.org.slug, **kwargs}
    url = reverse(name, kwargs=kwargs)
    extra = {"HTTP_X_CREDEX_ORGANIZATION": tenant.org.slug} if route.startswith("api/") else {}
    return url, client.get(url, query or {}, **extra)


def _check(tenant, client, world, name, kwargs, *, may_be_write_only, query=None) -> str | None:
    """None when the route's GET recorded exactly one read naming the provider, else why not."""
    provider_id = str(world["provider"].pk)
    before = _head(tenant.org)
    url, response = _get(client, tenant, name, kwargs, query)
    written = _written(tenant.org, before)
    if response.status_code == 405 and may_be_write_only:
        return None if written == [] else f"{name}: a 405 wrote {[e.action for e in written]}"
    if response.status_code != 200:
        return f"{name} {url}: GET answered {response.status_code}"
    reads = [e for e in written if e.action in READ_ACTIONS]
    if len(reads) != 1:
        return f"{name}: {len(reads)} read events, expected exactly one ({written!r})"
    if provider_id not in _names(reads[0]):
        return f"{name}: the read does not name the provider ({reads[0].data})"
    return None


def test_every_provider_route_records_one_read_naming_the_provider(tenant_a, world, login):
    client = login(tenant_a.coordinator)
    # The walk itself works (a broken walk would pass vacuously).
    assert {"provider_detail", "provider_edit", "api_provider", "nppes_provider"} <= set(
        provider_routes()
    )
    problems = []
    for name in provider_routes():
        kwargs = {"provider_id": world["provider"].pk}
        if name in PROVIDER_ROUTE_KWARGS:
            kwargs |= PROVIDER_ROUTE_KWARGS[name](world)
        problem = _check(tenant_a, client, world, name, kwargs, may_be_write_only=True)
        if problem:
            problems.append(problem)
    assert problems == [], "\n".join(problems)


def test_every_other_provider_data_route_records_one_read_naming_the_provider(
    tenant_a, world, login
):
    client = login(tenant_a.coordinator)
    problems = []
    for name, build in WALKED.items():
        problem = _check(
            tenant_a,
            client,
            world,
            name,
            build(world),
            may_be_write_only=False,
            query=WALKED_QUERY.get(name),
        )
        if problem:
            problems.append(problem)
    assert problems == [], "\n".join(problems)
