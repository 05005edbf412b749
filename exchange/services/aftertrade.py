"""After the trade: the buyer rates the seller once per order, disputes an order within the
dispute window, and the exchange operator resolves a dispute with a refund or rejects it.

Every change is audited in each chain it concerns (buyer, seller, and for the operator's
decisions the platform chain). A refund is one transaction: the reversing journal entry, the
order marked refunded, the buyer's purchased record superseded by a correction that no longer
counts toward the verification window (result "unable"), the dispute resolved. Mail goes out
on commit.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from audit.models import ActorKind
from audit.services import Actor, audit_record
from billing.models import EntryKind, JournalEntry
from billing.services import entry_reverse
from billing.services.charges import charge_refund
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.errors import Conflict, Forbidden, InvalidInput, NotFound
from credex.models import Membership, Organization, User
from credex.tenancy import platform_path, second_scope
from exchange.models import (
    Dispute,
    DisputeReason,
    DisputeStatus,
    ExchangeMembership,
    ExchangeSettings,
    MemberDirectory,
    Order,
    OrderStatus,
    Rating,
)
from exchange.selectors.aftertrade import BUYER, member_names, order_for_party
from verifications.models import Verification, VerificationResult
from verifications.services.records import verification_correct

COMMENT_MAX = 1000
DESCRIPTION_MAX = 4000
NOTE_MAX = 2000


def _text(value, *, field: str, maximum: int, required: bool, label: str) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{label} must be text.", details={field: f"{label} must be text."})
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{label} is required.", details={field: f"{label} is required."})
    if len(text) > maximum:
        message = f"{label} is limited to {maximum} characters."
        raise InvalidInput(message, details={field: message})
    return text


def _buyer_order(*, org, order) -> Order:
    """The order, re-read in the buyer's scope; the seller (who can see it) is refused."""
    order_id = getattr(order, "pk", order)
    found, side = order_for_party(org=org, order_id=order_id)
    if side != BUYER:
        raise Forbidden(
            "Only the buyer can do this for an order.", code="not_the_buyer", details={}
        )
    return found


def _contact_email(org_id) -> str:
    """The member's exchange contact (its private membership row, read in its own scope)."""
    with second_scope(org_id):
        email = (
            ExchangeMembership.objects.filter(organization_id=org_id)
            .values_list("contact_email", flat=True)
            .first()
        )
    return email or ""


def _operator_emails() -> list[str]:
    return list(
        User.objects.filter(is_exchange_operator=True, is_active=True).values_list(
            "email", flat=True
        )
    )


def _mail_on_commit(subject: str, body: str, recipients) -> None:
    recipients = sorted({r for r in recipients if r})
    for email in recipients:
        transaction.on_commit(lambda email=email: send_mail(subject, body, None, [email]))


def _order_label(order: Order) -> str:
    return f"{order.get_source_display()} for {order.clinician_name} (NPI {order.npi})"


# --- ratings ---------------------------------------------------------------------------------


def rating_record(*, org, actor, order, score, comment: str = "") -> Rating:
    """The buyer's rating of the seller for one order (1 to 5, once per order)."""
    require(actor, cap.TRADE_EXCHANGE)
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidInput(
            "Give the seller a score from 1 to 5.", details={"score": "Choose 1 to 5."}
        )
    comment = _text(
        comment, field="comment", maximum=COMMENT_MAX, required=False, label="The comment"
    )
    with transaction.atomic():
        order = _buyer_order(org=org, order=order)
        rating = Rating(
            organization_id=org.pk,
            order=order,
            seller_organization_id=order.seller_organization_id,
            score=score,
            comment=comment,
            rated_by=actor if isinstance(actor, Membership) else None,
        )
        try:
            with transaction.atomic():
                rating.save(force_insert=True)
        except IntegrityError as exc:
            raise Conflict("This order has already been rated.", code="already_rated") from exc
        MemberDirectory.objects.filter(member_id=order.seller_organization_id).update(
            rating_sum=F("rating_sum") + score,
            rating_count=F("rating_count") + 1,
            updated_at=timezone.now(),
        )
        data = {"order": str(order.pk), "score": score, "comment_length": len(comment)}
        for chain in dict.fromkeys((org.pk, order.seller_organization_id)):
            audit_record(
                org=chain,
                actor=audit_actor(actor),
                action="exchange.rating.recorded",
                target=rating,
                data=data,
            )
    return rating


# --- disputes --------------------------------------------------------------------------------


def dispute_open(*, org, actor, order, reason: str, description: str) -> Dispute:
    """The buyer disputes an order within the dispute window (one open dispute per order)."""
    require(actor, cap.TRADE_EXCHANGE)
    if reason not in DisputeReason.values:
        message = "Choose why: wrong clinician, stale, incomplete or other."
        raise InvalidInput(message, details={"reason": message})
    description = _text(
        description,
        field="description",
        maximum=DESCRIPTION_MAX,
        required=True,
        label="A description of the problem",
    )
    settings = ExchangeSettings.current()
    with transaction.atomic():
        order = _buyer_order(org=org, order=order)
        if order.status == OrderStatus.REFUNDED:
            raise Conflict("This order has already been refunded.", code="already_refunded")
        closes = order.created_at + timedelta(days=settings.dispute_window_days)
        if timezone.now() > closes:
            raise Conflict(
                f"Disputes are accepted within {settings.dispute_window_days} days of the "
                f"purchase; this one closed on {closes:%d %b %Y}.",
                code="dispute_window_closed",
            )
        dispute = Dispute(
            organization_id=org.pk,
            order=order,
            seller_organization_id=order.seller_organization_id,
            reason=reason,
            description=description,
            opened_by=actor if isinstance(actor, Membership) else None,
        )
        try:
            with transaction.atomic():
                dispute.save(force_insert=True)
        except IntegrityError as exc:
            raise Conflict(
                "This order already has an open dispute.", code="dispute_already_open"
            ) from exc
        data = {"order": str(order.pk), "reason": reason}
        for chain in dict.fromkeys((org.pk, order.seller_organization_id)):
            audit_record(
                org=chain,
                actor=audit_actor(actor),
                action="exchange.dispute.opened",
                target=dispute,
                data=data,
            )
        buyer_name = member_names([org.pk]).get(org.pk, org.name)
        body = (
            f"{buyer_name} disputed its purchase of {_order_label(order)} "
            f"(order {order.pk}): {dispute.get_reason_display()}.\n\n{description}\n\n"
            "The exchange operator will resolve it with a refund or reject it with a reason."
        )
        _mail_on_commit(
            "A purchase on the CredEx exchange was disputed",
            body,
            [_contact_email(order.seller_organization_id), *_operator_emails()],
        )
    return dispute


def _operator_actor(operator) -> Actor:
    if not getattr(operator, "is_exchange_operator", False):
        raise Forbidden("Only the exchange operator resolves disputes.")
    return Actor(ActorKind.PLATFORM, str(operator.pk), operator.email)


def _open_dispute(dispute_id) -> Dispute:
    """The dispute, locked, in its buyer's scope (the caller is inside second_scope)."""
    dispute = (
        Dispute.objects.select_for_update().select_related("order").filter(pk=dispute_id).first()
    )
    if dispute is None:
        raise NotFound("Not found.")
    if dispute.status != DisputeStatus.OPEN:
        raise Conflict("This dispute has already been resolved.", code="dispute_resolved")
    return dispute


def _buyer_of(dispute_id):
    with platform_path():
        buyer_id = (
            Dispute.objects.filter(pk=dispute_id).values_list("organization_id", flat=True).first()
        )
    if buyer_id is None:
        raise NotFound("Not found.")
    return buyer_id


def _audit_all_chains(*, actor, action, dispute, data) -> None:
    for chain in dict.fromkeys((dispute.organization_id, dispute.seller_organization_id, None)):
        audit_record(org=chain, actor=actor, action=action, target=dispute, data=data)


def _mail_parties(dispute: Dispute, subject: str, body: str) -> None:
    with platform_path():
        emails = list(
            ExchangeMembership.objects.filter(
                organization_id__in=[dispute.organization_id, dispute.seller_organization_id]
            ).values_list("contact_email", flat=True)
        )
    _mail_on_commit(subject, body, emails)


def dispute_refund(*, operator, dispute_id, note: str) -> Dispute:
    """Resolve a dispute with a refund: the reversing journal entry, the order refunded, the
    buyer's purchased record superseded by a non-counting correction; all or nothing."""
    actor = _operator_actor(operator)
    note = _text(note, field="note", maximum=NOTE_MAX, required=True, label="A note")
    with transaction.atomic():
        buyer_id = _buyer_of(dispute_id)
        with second_scope(buyer_id):
            dispute = _open_dispute(dispute_id)
            order = Order.objects.select_for_update().get(pk=dispute.order_id)
            if order.status == OrderStatus.REFUNDED:
                raise Conflict("This order has already been refunded.", code="already_refunded")
            charge_refund(org=buyer_id, order_id=order.pk, actor=actor)
            reversal = _reverse_order_entry(order, note)
            now = timezone.now()
            Order.objects.filter(pk=order.pk).update(status=OrderStatus.REFUNDED, refunded_at=now)
            correction = _supersede_copy(order, actor, note)
            dispute.status = DisputeStatus.REFUNDED
            dispute.resolved_by = operator
            dispute.resolved_at = now
            dispute.resolution_note = note
            dispute.reversal_entry_id = reversal.pk if reversal else None
            dispute.save(
                update_fields=[
                    "status",
                    "resolved_by",
                    "resolved_at",
                    "resolution_note",
                    "reversal_entry_id",
                ]
            )
        data = {
            "order": str(order.pk),
            "note": note,
            "reversal_entry": str(reversal.pk) if reversal else "",
            "refunded_cents": order.total_cents,
            "correction": str(correction.pk),
        }
        _audit_all_chains(
            actor=actor, action="exchange.dispute.refunded", dispute=dispute, data=data
        )
        _mail_parties(
            dispute,
            "A disputed exchange purchase was refunded",
            f"The dispute of {_order_label(order)} (order {order.pk}) was resolved with a "
            f"refund of ${order.total_cents / 100:,.2f} to the buyer; the seller's proceeds "
            f"of ${order.price_cents / 100:,.2f} were reversed.\n\nOperator's note: {note}\n\n"
            "The buyer's purchased record is superseded and no longer counts toward the "
            "verification window.",
        )
    return dispute


def _reverse_order_entry(order: Order, note: str) -> JournalEntry | None:
    if order.journal_entry_id is None:
        return None
    entry = JournalEntry.objects.filter(pk=order.journal_entry_id).first()
    if entry is None:
        raise Conflict("The order's ledger entry is missing.", code="ledger_entry_missing")
    try:
        with transaction.atomic():
            return entry_reverse(
                entry=entry, kind=EntryKind.EXCHANGE_REFUND, memo=f"Refund: {note}"[:300]
            )
    except IntegrityError as exc:
        # The CHECK on ledger balances: the seller was already paid out (its proceeds would go
        # negative) or the buyer already settled; the operator settles that outside first.
        raise Conflict(
            "The ledger refused the refund: it would make a balance negative (the seller's "
            "proceeds were probably already paid out). Settle the payout first.",
            code="refund_refused_by_ledger",
        ) from exc


def _supersede_copy(order: Order, actor: Actor, note: str):
    """Correct the newest record of the copy's chain (the buyer may have corrected the copy
    since the purchase) with one that no longer counts: result "unable", marked refunded."""
    buyer = Organization.objects.get(pk=order.organization_id)
    head = order.verification
    while (newer := Verification.objects.filter(supersedes=head).first()) is not None:
        head = newer
    data = dict(head.data or {})
    data.update(
        {
            "exchange_refunded": True,
            "order_id": str(order.pk),
            "refunded_at": timezone.now().isoformat(),
        }
    )
    return verification_correct(
        org=buyer,
        actor=actor,
        verification=head,
        reason=f"Refunded on the exchange: {note}",
        result=VerificationResult.UNABLE,
        data=data,
    )


def dispute_reject(*, operator, dispute_id, reason: str) -> Dispute:
    """Reject a dispute with a reason (required); both parties are told."""
    actor = _operator_actor(operator)
    reason = _text(reason, field="reason", maximum=NOTE_MAX, required=True, label="A reason")
    with transaction.atomic():
        buyer_id = _buyer_of(dispute_id)
        with second_scope(buyer_id):
            dispute = _open_dispute(dispute_id)
            dispute.status = DisputeStatus.REJECTED
            dispute.resolved_by = operator
            dispute.resolved_at = timezone.now()
            dispute.resolution_note = reason
            dispute.save(update_fields=["status", "resolved_by", "resolved_at", "resolution_note"])
        order = dispute.order
        _audit_all_chains(
            actor=actor,
            action="exchange.dispute.rejected",
            dispute=dispute,
            data={"order": str(order.pk), "reason": reason},
        )
        _mail_parties(
            dispute,
            "A dispute on the CredEx exchange was rejected",
            f"The dispute of {_order_label(order)} (order {order.pk}) was rejected by the "
            f"exchange operator.\n\nReason: {reason}",
        )
    return dispute


def statement_exported(*, org, actor, rows: int) -> None:
    """Record that the statement was downloaded (a financial export, like the audit log's)."""
    audit_record(
        org=org,
        actor=audit_actor(actor),
        action="exchange.statement.exported",
        target=org,
        data={"format": "csv", "rows": rows},
    )
