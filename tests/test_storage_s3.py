"""Documents stored in S3 through django-storages, against moto's real server on loopback.

The settings switch the default storage to storages.backends.s3.S3Storage (what
credex/settings.py does when AWS_STORAGE_BUCKET_NAME is set); Django's setting_changed
handler for STORAGES drops the cached storage, so the next file operation builds an
S3Storage from these settings, and restoring them builds the local one again.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from moto.server import ThreadedMotoServer

from audit.models import AuditEvent
from credex.tenancy import tenant_context
from roster.models import Document
from roster.services import documents as services
from tests.factories import make_provider, pdf_bytes, png_bytes

pytestmark = pytest.mark.django_db

KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def moto_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(settings, moto_endpoint, monkeypatch):
    """A fresh bucket, and the default storage pointed at it for this test."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    name = f"credex-test-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1", **KEYS)
    client.create_bucket(Bucket=name)
    settings.AWS_STORAGE_BUCKET_NAME = name
    settings.AWS_S3_ENDPOINT_URL = moto_endpoint
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_S3_ACCESS_KEY_ID = KEYS["aws_access_key_id"]
    settings.AWS_S3_SECRET_ACCESS_KEY = KEYS["aws_secret_access_key"]
    settings.STORAGES = {
        **django_settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage"},
    }
    return client, name


def objects(client, name) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket=name).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=name, Key=o["Key"])["Body"].read() for o in listed}


def local_files() -> list[Path]:
    root = Path(django_settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_the_default_storage_is_s3_while_the_settings_say_so(bucket):
    from django.core.files.storage import storages
    from storages.backends.s3 import S3Storage

    assert isinstance(storages["default"], S3Storage)
    assert default_storage.bucket_name == bucket[1]
    assert Document._meta.get_field("file").storage.bucket_name == bucket[1]


def test_an_upload_and_its_authorized_download_round_trip_the_bytes_through_s3(
    bucket, tenant_a, login
):
    client, name = bucket
    provider = make_provider(tenant_a.org, seed=3, first_name="Quinn", last_name="Park")
    data = pdf_bytes(pages=2)
    browser = login(tenant_a.coordinator)
    response = browser.post(
        f"/o/{tenant_a.org.slug}/documents/provider/{provider.pk}/",
        {"kind": "license", "file": SimpleUploadedFile("Quinn Park license.pdf", data)},
    )
    assert response.status_code == 302
    with tenant_context(tenant_a.org):
        doc = Document.objects.get()
    stored = objects(client, name)
    assert stored == {doc.file.name: data}
    key = doc.file.name
    assert key == f"documents/{tenant_a.org.pk}/{provider.pk}/{doc.pk}"
    assert "Quinn" not in key and "license" not in key and ".pdf" not in key
    assert local_files() == []

    download = browser.get(f"/o/{tenant_a.org.slug}/documents/{doc.pk}/download")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == data
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert name not in str(download.headers) and "X-Amz" not in str(download.headers)
    with tenant_context(tenant_a.org):
        assert AuditEvent.objects.filter(
            action="roster.document.downloaded", target_id=str(doc.pk)
        ).exists()


def test_a_provider_link_upload_lands_in_s3_and_a_refused_one_stores_nothing(
    bucket, tenant_a, client
):
    s3, name = bucket
    provider = make_provider(tenant_a.org, seed=4, email="p@example.org")
    with tenant_context(tenant_a.org):
        link = services.upload_link_create(
            org=tenant_a.org,
            actor=tenant_a.membership(tenant_a.coordinator),
            provider=provider,
            kinds=["cv"],
        )
    path = f"/u/{services.upload_link_token(link)}/"
    refused = client.post(
        path, {"kind": "cv", "file": SimpleUploadedFile("cv.png", b"<html>not an image</html>")}
    )
    assert refused.status_code == 400 and objects(s3, name) == {}
    image = png_bytes(3, 3)
    sent = client.post(path, {"kind": "cv", "file": SimpleUploadedFile("cv.png", image)})
    assert sent.status_code == 302
    with tenant_context(tenant_a.org):
        doc = Document.objects.get()
    assert objects(s3, name) == {doc.file.name: image}
    assert "cv" not in doc.file.name.rsplit("/", 1)[-1]
