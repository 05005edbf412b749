"""The append-only, hash-chained audit log."""

from __future__ import annotations

import uuid

from django.db import models


class ActorKind(models.TextChoices):
    MEMBER = "member", "Member"
    API_KEY = "api_key", "API key"
    SYSTEM = "system", "System job"
    PROVIDER_LINK = "provider_link", "Provider link"
    PAYER_LINK = "payer_link", "Payer link"
    ANONYMOUS = "anonymous", "Anonymous"
    PLATFORM = "platform", "Platform staff"


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only.")

    def delete(self):
        raise PermissionError("Audit events are append-only.")


class AuditEventManager(models.Manager.from_queryset(AuditEventQuerySet)):
    def get_queryset(self):
        # Events are written when their transaction commits (credex/pgbackend). Only inside a
        # test's never-committing transaction are pending events sealed for a read.
        from django.db import connections

        connection = connections["default"]
        if getattr(connection, "audit_pending", None):
            connection.seal_for_reading()
        return super().get_queryset()


class AuditEvent(models.Model):
    """One recorded action. Organization is null for platform events (unknown-login failures).

    Scoping: reads go through audit.selectors, which start from the organization; RLS on
    this table allows only the active organization's chain (or the platform chain when the
    recorder or verifier asks for it). The default manager is not the tenant manager because
    rows may have no organization; the isolation meta-test knows this one exception.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "credex.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seq = models.BigIntegerField()
    actor_kind = models.CharField(max_length=20, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=60, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip = models.CharField(max_length=45, null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventManager()

    class Meta:
        ordering = ["organization_id", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "seq"], name="audit_org_seq_unique", nulls_distinct=False
            )
        ]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="audit_org_time_idx"),
            models.Index(fields=["organization", "actor_id"], name="audit_org_actor_idx"),
            models.Index(
                fields=["organization", "target_type", "target_id"], name="audit_org_target_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        # Events are written only by audit.services (sealed into the chain at commit).
        raise PermissionError("Audit events are append-only; record them with audit_record.")

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")
