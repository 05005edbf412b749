"""Roster API routes (flat list, appended to credex.urls.api_patterns under /api/v1/)."""

from django.urls import path

from roster.api import providers

urlpatterns: list = [
    path("providers", providers.ProviderListView.as_view(), name="api_providers"),
    path(
        "providers/<uuid:provider_id>",
        providers.ProviderDetailView.as_view(),
        name="api_provider",
    ),
    path(
        "providers/<uuid:provider_id>/reveal",
        providers.ProviderRevealView.as_view(),
        name="api_provider_reveal",
    ),
    path(
        "providers/<uuid:provider_id>/credentials",
        providers.ProviderCredentialListView.as_view(),
        name="api_provider_credentials",
    ),
    path(
        "credentials/<uuid:credential_id>",
        providers.CredentialDetailView.as_view(),
        name="api_credential",
    ),
]

# --- expiry inbox (inbox area) ---
from roster.api import inbox as _inbox  # noqa: E402

urlpatterns += [
    path("inbox", _inbox.InboxListView.as_view(), name="api_inbox"),
    path("inbox/<uuid:item_id>/snooze", _inbox.InboxSnoozeView.as_view(), name="api_inbox_snooze"),
    path(
        "inbox/<uuid:item_id>/dismiss", _inbox.InboxDismissView.as_view(), name="api_inbox_dismiss"
    ),
    path(
        "inbox/<uuid:item_id>/resolve", _inbox.InboxResolveView.as_view(), name="api_inbox_resolve"
    ),
    path("inbox/<uuid:item_id>/undo", _inbox.InboxUndoView.as_view(), name="api_inbox_undo"),
]

# --- documents (documents area) ---
from roster.api import documents as _documents  # noqa: E402

urlpatterns += [
    path(
        "providers/<uuid:provider_id>/documents",
        _documents.ProviderDocumentListView.as_view(),
        name="api_provider_documents",
    ),
    path(
        "documents/<uuid:document_id>",
        _documents.DocumentDetailView.as_view(),
        name="api_documents_detail",
    ),
    path(
        "documents/<uuid:document_id>/download",
        _documents.DocumentDownloadView.as_view(),
        name="api_documents_download",
    ),
    path(
        "documents/<uuid:document_id>/review",
        _documents.DocumentReviewView.as_view(),
        name="api_documents_review",
    ),
]

# --- CSV import (import area) ---
from roster.api import imports as _imports  # noqa: E402

urlpatterns += [
    path("imports", _imports.ImportListView.as_view(), name="api_imports"),
    path("imports/<uuid:job_id>", _imports.ImportDetailView.as_view(), name="api_import"),
]

# --- CAQH ProView export (packets area) ---
from roster.api import caqh as _caqh  # noqa: E402

urlpatterns += [
    path(
        "providers/<uuid:provider_id>/caqh",
        _caqh.ProviderCaqhView.as_view(),
        name="api_provider_caqh",
    ),
]
