"""Verification API routes (flat list, appended to credex.urls.api_patterns under /api/v1/)."""

from verifications.api import extraction, packages, packets, queue

urlpatterns: list = [
    *queue.urlpatterns,
    *packets.urlpatterns,
    *extraction.urlpatterns,
    *packages.urlpatterns,
]
