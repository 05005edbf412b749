"""Step 3: write a checked plan in bulk, in the caller's transaction, auditing every write."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connections
from django.utils import timezone

from roster import crypto
from roster import hooks as roster_hooks
from roster.importer.archive import DocumentArchive
from roster.importer.checking import CredentialPlan, DocumentPlan, Plan, ProviderPlan
from roster.models import (
    Credential,
    CredentialStatus,
    Document,
    DocumentStatus,
    Provider,
    document_path,
)


@dataclass
class WriteResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    credentials_created: int = 0
    credentials_updated: int = 0
    documents: int = 0
    stored_files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "credentials_created": self.credentials_created,
            "credentials_updated": self.credentials_updated,
            "documents": self.documents,
        }


def _jsonable(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "pk"):
        return str(value.pk)
    return value


def _set_provider(provider: Provider, values: dict) -> dict:
    """Apply checked values; return the audit diff (protected fields only as "changed")."""
    diff = {}
    for name, value in values.items():
        if name == "dob":
            text = value.isoformat()
            if crypto.decrypt(provider.dob_encrypted) != text:
                provider.dob_encrypted = crypto.encrypt(text)
                diff["dob"] = "changed"
            continue
        if name == "ssn":
            if crypto.decrypt(provider.ssn_encrypted) != value:
                provider.ssn_encrypted = crypto.encrypt(value)
                provider.ssn_last4 = value[-4:]
                diff["ssn"] = "changed"
            continue
        if name == "coordinator_email":
            # Compare ids: reading provider.coordinator would cost a query per provider.
            name, value = "coordinator", value.pk
        attr = {"primary_taxonomy": "primary_taxonomy_id", "coordinator": "coordinator_id"}.get(
            name, name
        )
        before = getattr(provider, attr)
        if before != value:
            diff[name] = {"from": _jsonable(before), "to": _jsonable(value)}
            setattr(provider, attr, value)
    return diff


def _set_credential(credential: Credential, values: dict) -> dict:
    diff = {}
    for name, value in values.items():
        if name in ("kind", "number", "state") or value in (None, ""):
            continue  # the match key, and blanks leave the stored value alone
        before = getattr(credential, name)
        if before != value:
            diff[name] = {"from": _jsonable(before), "to": _jsonable(value)}
            setattr(credential, name, value)
    return diff


def write(
    *,
    org,
    actor,
    audit_actor,
    plan: Plan,
    job,
    documents: DocumentArchive | None = None,
    progress: Callable[[int], None] | None = None,
    chunk: int = 1000,
) -> WriteResult:
    """Write a checked plan in bulk (inside the caller's transaction); audit every write.

    Stored document files are listed in the result so the caller can delete them if the
    transaction does not commit (storage is not transactional).
    """
    from audit.services import audit_record_many

    result = WriteResult()
    progress = progress or (lambda done: None)
    done = 0
    with connections["default"].cursor() as cursor:
        # Foreign-key checks run through plans each session caches at first use; a plan made
        # while a table was nearly empty scans it whole for every row, and an import that
        # fills the table makes that quadratic (measured: 1 ms per credential at 10,000
        # providers). Custom plans while writing keep each immediate check an index lookup;
        # the previous mode comes back before the deferred checks run at commit (custom
        # planning there cost 1.7 s more for 10,000 rows, and by then the tables are full).
        cursor.execute(
            "SELECT current_setting('plan_cache_mode'), "
            "set_config('plan_cache_mode', 'force_custom_plan', true)"
        )
        previous_mode = cursor.fetchone()[0]
    try:
        for start in range(0, len(plan.providers), chunk):
            part = plan.providers[start : start + chunk]
            events = _write_chunk(org, actor, part, job, documents, result)
            audit_record_many(org=org, actor=audit_actor, events=events)
            done += sum(len(p.rows) for p in part)
            progress(done)
    except BaseException:
        delete_files(result.stored_files)
        raise
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT set_config('plan_cache_mode', %s, true)", [previous_mode])
    return result


def delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def _write_chunk(org, actor, part: list[ProviderPlan], job, documents, result) -> list[dict]:
    from credex.models import Membership

    now = timezone.now()
    member = actor if isinstance(actor, Membership) else None
    job_id = str(job.pk)
    providers, credentials = _RowBuilder(Provider), _RowBuilder(Credential)
    events: list[dict] = []
    new_providers: list[list] = []
    changed_providers, changed_fields = [], {"updated_at"}
    new_credentials: list[list] = []
    changed_credentials, credential_fields = [], {"updated_at"}
    new_documents: list[Document] = []
    for p in part:
        if p.existing is None:
            row = _new_provider_row(providers, org, p, now)
            provider_id = row[providers.slot["id"]]
            new_providers.append(row)
            result.created += 1
            events.append(
                {
                    "action": "roster.provider.created",
                    "target_type": "roster.provider",
                    "target_id": str(provider_id),
                    "data": {
                        "name": _full_name(p.values),
                        "npi": p.npi,
                        "fields": sorted(p.values),
                        "import_job": job_id,
                        "row": p.first_row,
                    },
                }
            )
        else:
            provider = p.existing
            provider_id = provider.pk
            diff = _set_provider(provider, p.values)
            if diff:
                provider.updated_at = now
                changed_providers.append(provider)
                changed_fields.update(FIELD_OF_DIFF.get(k, k) for k in diff)
                if "ssn" in diff:
                    changed_fields.add("ssn_last4")
                events.append(
                    {
                        "action": "roster.provider.updated",
                        "target": provider,
                        "data": {"changes": diff, "import_job": job_id, "row": p.first_row},
                    }
                )
            changes_files = (
                p.documents
                or any(c.document for c in p.credentials)
                or any(c.existing is None or _would_change(c) for c in p.credentials)
            )
            if diff or changes_files:
                result.updated += 1
            else:
                result.unchanged += 1
        for c in p.credentials:
            if c.existing is None:
                row = credentials.row(
                    organization_id=org.pk,
                    provider_id=provider_id,
                    created_at=now,
                    updated_at=now,
                    **{"status": CredentialStatus.ACTIVE, **c.values},
                )
                credential_id = row[credentials.slot["id"]]
                new_credentials.append(row)
                result.credentials_created += 1
                events.append(
                    {
                        "action": "roster.credential.created",
                        "target_type": "roster.credential",
                        "target_id": str(credential_id),
                        "data": {
                            "provider": str(provider_id),
                            "kind": c.values["kind"],
                            "expiry_date": _jsonable(c.values.get("expiry_date")),
                            "import_job": job_id,
                            "row": c.row,
                        },
                    }
                )
            else:
                credential = c.existing
                credential_id = credential.pk
                diff = _set_credential(credential, c.values)
                if diff:
                    credential.updated_at = now
                    changed_credentials.append(credential)
                    credential_fields.update(diff)
                    result.credentials_updated += 1
                    events.append(
                        {
                            "action": "roster.credential.updated",
                            "target": credential,
                            "data": {
                                "provider": str(provider_id),
                                "changes": diff,
                                "import_job": job_id,
                                "row": c.row,
                            },
                        }
                    )
            if c.document:
                doc = _document(org, provider_id, credential_id, c.document, documents, member, now)
                result.stored_files.append(doc.file.name)
                new_documents.append(doc)
        for d in p.documents:
            doc = _document(org, provider_id, None, d, documents, member, now)
            result.stored_files.append(doc.file.name)
            new_documents.append(doc)
    result.documents += len(new_documents)
    copy_rows(Provider, new_providers)
    copy_update(Provider, changed_providers, changed_fields)
    copy_rows(Credential, new_credentials)
    copy_update(Credential, changed_credentials, credential_fields)
    copy_insert(Document, new_documents)
    # Imported licences, registrations and certificates are read like uploads: a suggestion
    # per document waits for review (enqueued on commit; nothing is applied without approval).
    if new_documents:
        roster_hooks.documents_imported.run(org=org, documents=new_documents)
    events.extend(_document_event(doc, job_id) for doc in new_documents)
    return events


def _full_name(values: dict) -> str:
    parts = [values.get("first_name"), values.get("middle_name"), values.get("last_name")]
    name = " ".join(p for p in parts if p)
    return f"{name}, {values['suffix']}" if values.get("suffix") else name


def _new_provider_row(builder: _RowBuilder, org, p: ProviderPlan, now) -> list:
    """A new provider's row; protected fields encrypted (no decrypt-compare as on update)."""
    fields = {"organization_id": org.pk, "npi": p.npi, "created_at": now, "updated_at": now}
    for name, value in p.values.items():
        if name == "dob":
            fields["dob_encrypted"] = crypto.encrypt(value.isoformat())
        elif name == "ssn":
            fields["ssn_encrypted"] = crypto.encrypt(value)
            fields["ssn_last4"] = value[-4:]
        elif name == "primary_taxonomy":
            fields["primary_taxonomy_id"] = value
        elif name == "coordinator_email":
            fields["coordinator_id"] = value.pk
        else:
            fields[name] = value
    return builder.row(**fields)


def _document_event(doc: Document, job_id: str) -> dict:
    data = {
        "provider": str(doc.provider_id),
        "kind": doc.kind,
        "original_name": doc.original_name,
        "content_type": doc.content_type,
        "size": doc.size,
        "sha256": doc.sha256,
        "source": "csv_import",
        "accepted": True,
        "import_job": job_id,
    }
    if doc.credential_id:
        data["credential"] = str(doc.credential_id)
    return {"action": "roster.document.uploaded", "target": doc, "data": data}


class _RowBuilder:
    """Rows in a model's column order for COPY, built without model instances.

    Model.__init__ took about 2 s for the 20,000 providers and credentials of a 10,000-row
    import. The defaults come from the model's own fields, so a field added to the model
    later is filled the same way the ORM would fill it.
    """

    def __init__(self, model):
        connection = connections["default"]
        self.fields = model._meta.concrete_fields
        self.slot = {f.attname: i for i, f in enumerate(self.fields)}
        self.template = [f.get_db_prep_save(f.get_default(), connection) for f in self.fields]

    def row(self, **values) -> list:
        row = list(self.template)
        row[self.slot["id"]] = uuid.uuid4()
        for name, value in values.items():
            row[self.slot[name]] = value
        return row


def copy_rows(model, rows: list[list]) -> None:
    """Insert many rows: COPY into a temporary table, then INSERT ... SELECT.

    Postgres refuses COPY FROM into a table with row-level security, so rows go through a
    temporary table (session-private, no RLS) and reach the real table with one INSERT that
    the RLS policies and constraints check like any other. Measured on 10,000 providers:
    bulk_create 9.2 s (building and parsing one huge parameterized statement per batch),
    COPY + INSERT ... SELECT 1.8 s.
    """
    if not rows:
        return
    connection = connections["default"]
    q = connection.ops.quote_name
    columns = ", ".join(q(f.column) for f in model._meta.concrete_fields)
    table = q(model._meta.db_table)
    temp = f"import_{uuid.uuid4().hex[:16]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {temp} (LIKE {table}) ON COMMIT DROP")
        with cursor.cursor.copy(f"COPY {temp} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {temp}")
        cursor.execute(f"DROP TABLE {temp}")


def copy_insert(model, objs: list) -> None:
    """copy_rows for model instances."""
    if not objs:
        return
    connection = connections["default"]
    fields = model._meta.concrete_fields
    copy_rows(
        model,
        [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] for obj in objs],
    )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def copy_update(model, objs: list, field_names) -> None:
    """Update many rows the same way: COPY the new values, then one UPDATE ... FROM."""
    if not objs:
        return
    connection = connections["default"]
    q = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in sorted(set(field_names))]
    table = q(model._meta.db_table)
    temp = f"import_{uuid.uuid4().hex[:16]}"
    columns = ", ".join(["id", *(q(f.column) for f in fields)])
    assignments = ", ".join(f"{q(f.column)} = t.{q(f.column)}" for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {temp} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row(
                    [
                        obj.pk,
                        *(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields),
                    ]
                )
        cursor.execute(f"UPDATE {table} SET {assignments} FROM {temp} t WHERE {table}.id = t.id")
        cursor.execute(f"DROP TABLE {temp}")


FIELD_OF_DIFF = {
    "dob": "dob_encrypted",
    "ssn": "ssn_encrypted",
    "primary_taxonomy": "primary_taxonomy",
    "coordinator": "coordinator",
}


def _would_change(c: CredentialPlan) -> bool:
    existing = c.existing
    return any(
        v not in (None, "") and getattr(existing, k) != v
        for k, v in c.values.items()
        if k not in ("kind", "number", "state")
    )


def _document(org, provider_id, credential_id, plan: DocumentPlan, documents, member, now):
    """Store the file (never under its uploaded name) and build its row."""
    data = documents.read(plan.member)  # streamed and limited again (ArchiveRefused)
    doc = Document(
        organization_id=org.pk,
        provider_id=provider_id,
        credential_id=credential_id,
        kind=plan.kind,
        original_name=plan.original_name,
        content_type=plan.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        status=DocumentStatus.ACCEPTED,
        uploaded_by=member,
        reviewed_by=member,
        reviewed_at=now,
        review_note="Imported from a CSV by a coordinator.",
        created_at=now,
    )
    doc.file.name = default_storage.save(document_path(doc, plan.original_name), ContentFile(data))
    return doc
