"""Documents and provider upload links: upload (type sniffed from the bytes), review,
authorized download, and the signed, expiring links providers (no account) upload through.

Every write checks the capability (a link is itself the capability for a provider's upload),
runs in one transaction and records an audit event in it; e-mails leave on commit.

- sniffing: what a file is, from its bytes; the size limit
- files: upload, review, download, reads recorded
- links: upload links and the provider's side
"""

from roster.services.documents.files import (
    DECISIONS,
    clean_filename,
    document_download,
    document_review,
    document_upload,
    document_viewed,
    documents_bulk_accept,
    provider_documents_viewed,
)
from roster.services.documents.links import (
    UPLOAD_LINK,
    UPLOAD_LINK_SALT,
    upload_link_create,
    upload_link_record_refusal,
    upload_link_record_upload_refused,
    upload_link_revoke,
    upload_link_token,
    upload_link_upload,
    upload_link_url,
    upload_link_visit,
)
from roster.services.documents.preview import document_preview
from roster.services.documents.sniffing import ALLOWED, Sniffed, size_words, sniff

__all__ = [
    "ALLOWED",
    "DECISIONS",
    "UPLOAD_LINK",
    "UPLOAD_LINK_SALT",
    "Sniffed",
    "clean_filename",
    "document_download",
    "document_preview",
    "document_review",
    "document_upload",
    "document_viewed",
    "documents_bulk_accept",
    "provider_documents_viewed",
    "size_words",
    "sniff",
    "upload_link_create",
    "upload_link_record_refusal",
    "upload_link_record_upload_refused",
    "upload_link_revoke",
    "upload_link_token",
    "upload_link_upload",
    "upload_link_url",
    "upload_link_visit",
]
