"""The hit lifecycle: confirm (flags the provider everywhere, audited), clear as a false
positive (not raised again unless the record changes), reinstatements surfacing for a
confirmed exclusion, and the per-provider screening history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from audit.models import AuditEvent
from credex.errors import Conflict, Forbidden, InvalidInput
from credex.tenancy import tenant_context
from roster.models import Provider
from screening.loaders import load_dataset
from screening.models import HitKind, HitStatus, ScreeningHit, ScreeningResult
from screening.selectors import provider_screening_history, screening_dashboard_summary
from screening.services import hit_clear, hit_confirm, screening_run_now
from tests.factories import make_provider

FIXTURES = Path(__file__).parent / "fixtures_screening"
SAM_AS_OF = date(2023, 11, 22)  # the sample's newest Creation_Date (its name has no date)
EXCL = FIXTURES / "1610EXCL.csv"
ALI_NPI = "1790709913"


@pytest.fixture
def leie(db):
    # The supplement sample is from October 2016: the list under it must not be newer
    # (a supplement older than the active list is refused).
    load_dataset(
        source="leie", origin=str(FIXTURES / "UPDATED_head_2026.csv"), as_of=date(2016, 10, 1)
    )
    return load_dataset(source="leie", origin=str(EXCL)).version


@pytest.fixture
def screened(tenant_a, leie):
    """Org A with one provider whose NPI is on the LEIE sample, screened once."""
    provider = make_provider(tenant_a.org, seed=7, first_name="Mo", last_name="Ali", npi=ALI_NPI)
    with tenant_context(tenant_a.org):
        screening_run_now(org=tenant_a.org)
        hit = ScreeningHit.objects.get(provider=provider)
    return provider, hit


def coordinator(tenant):
    return tenant.membership(tenant.coordinator)


def rescreen(org):
    with tenant_context(org):
        return screening_run_now(org=org)


def test_confirming_a_hit_flags_the_provider_as_excluded_with_an_audit_trail(tenant_a, screened):
    provider, hit = screened
    with tenant_context(tenant_a.org):
        hit_confirm(org=tenant_a.org, actor=coordinator(tenant_a), hit=hit, note="Checked OIG.")
        hit.refresh_from_db()
        provider.refresh_from_db()
        events = list(
            AuditEvent.objects.filter(organization=tenant_a.org).values_list(
                "action", "source", "actor_label"
            )
        )
    assert hit.status == HitStatus.CONFIRMED and hit.reviewed_at is not None
    assert hit.reviewed_by_id == coordinator(tenant_a).pk and hit.evidence_note == "Checked OIG."
    assert provider.excluded is True and provider.excluded_at is not None
    assert ("screening.hit.confirmed", "OIG", "coordinator@a.example") in events
    assert ("roster.provider.exclusion_flagged", "OIG", "coordinator@a.example") in events


def test_a_reviewed_hit_cannot_be_reviewed_again(tenant_a, screened):
    _, hit = screened
    with tenant_context(tenant_a.org):
        hit_confirm(org=tenant_a.org, actor=coordinator(tenant_a), hit=hit)
        with pytest.raises(Conflict, match="already reviewed"):
            hit_clear(org=tenant_a.org, actor=coordinator(tenant_a), hit=hit, reason="oops")


def test_an_auditor_cannot_confirm_or_clear_and_nothing_changes(tenant_a, screened):
    provider, hit = screened
    auditor = tenant_a.membership(tenant_a.auditor)
    with tenant_context(tenant_a.org):
        with pytest.raises(Forbidden):
            hit_confirm(org=tenant_a.org, actor=auditor, hit=hit)
        with pytest.raises(Forbidden):
            hit_clear(org=tenant_a.org, actor=auditor, hit=hit, reason="Different person")
        hit.refresh_from_db()
        provider.refresh_from_db()
    assert hit.status == HitStatus.NEW and provider.excluded is False


def test_clearing_needs_a_reason(tenant_a, screened):
    _, hit = screened
    with tenant_context(tenant_a.org):
        with pytest.raises(InvalidInput) as exc:
            hit_clear(org=tenant_a.org, actor=coordinator(tenant_a), hit=hit, reason="  ")
        hit.refresh_from_db()
    assert exc.value.details == {"reason": "Say why this is not the same person or entity."}
    assert hit.status == HitStatus.NEW


def test_a_cleared_hit_is_not_raised_again_for_the_same_record(tenant_a, screened):
    provider, hit = screened
    with tenant_context(tenant_a.org):
        hit_clear(
            org=tenant_a.org,
            actor=coordinator(tenant_a),
            hit=hit,
            reason="Different date of birth",
            evidence="Licence shows 1971-02-03.",
        )
    run = rescreen(tenant_a.org)
    with tenant_context(tenant_a.org):
        hits = list(ScreeningHit.objects.filter(provider=provider))
        result = ScreeningResult.objects.get(run=run, provider=provider)
    assert run.counts["new_total"] == 0 and run.counts["matches"] == 1
    assert [(h.pk, h.status) for h in hits] == [(hit.pk, HitStatus.CLEARED)]
    assert (result.leie_outcome, result.leie_matches) == ("clean", 1)  # matched, but cleared
    assert result.sam_outcome == ""  # no SAM list loaded


def test_a_cleared_hit_is_raised_again_when_the_source_record_changes(tenant_a, screened, tmp_path):
    provider, hit = screened
    with tenant_context(tenant_a.org):
        hit_clear(org=tenant_a.org, actor=coordinator(tenant_a), hit=hit, reason="Other person")
    # Next month's file: the same exclusion (same key) with a new address (a new hash).
    moved = EXCL.read_bytes().replace(b'"P O BOX 150160","ATLANTA"', b'"12 NEW ST","ATLANTA"')
    (tmp_path / "UPDATED.csv").write_bytes(moved)
    load_dataset(source="leie", origin=str(tmp_path / "UPDATED.csv"), kind="full")

    run = rescreen(tenant_a.org)
    with tenant_context(tenant_a.org):
        hits = list(ScreeningHit.objects.filter(provider=provider).order_by("detected_at"))
    assert run.counts["new"]["npi"] == 1
    assert [h.status for h in hits] == [HitStatus.CLEARED, HitStatus.NEW]
    assert hits[0].source_record_key == hits[1].source_record_key
    assert hits[0].record_hash != hits[1].record_hash
    assert hits[1].record_snapshot["ADDRESS"] == "12 NEW ST"


def test_a_reinstatement_of_a_confirmed_exclusion_surfaces_and_can_lift_the_flag(
    tenant_a, screened, tmp_path
):
    provider, hit = screened
    org = tenant_a.org
    with tenant_context(org):
        hit_confirm(org=org, actor=coordinator(tenant_a), hit=hit)
    header, *rows = EXCL.read_text().splitlines()
    ali = next(r for r in rows if r.startswith('"ALI"'))
    rein = ali.replace('"20161120","00000000","00000000"', '"20161120","20170105","00000000"')
    (tmp_path / "1701REIN.csv").write_text(f"{header}\n{rein}\n")
    load_dataset(source="leie", origin=str(tmp_path / "1701REIN.csv"))

    run = rescreen(org)
    again = rescreen(org)
    with tenant_context(org):
        item = ScreeningHit.objects.get(provider=provider, kind=HitKind.REINSTATEMENT)
        hit.refresh_from_db()
        assert run.counts["new"]["reinstatement"] == 1
        assert again.counts["new"]["reinstatement"] == 0  # raised once
        assert item.status == HitStatus.NEW and item.related_hit == hit
        assert item.explanation["notes"] == ["OIG LEIE: reinstated 2017-01-05."]
        assert hit.ended_on == date(2017, 1, 5)
        hit_confirm(org=org, actor=coordinator(tenant_a), hit=item)
        provider.refresh_from_db()
        assert provider.excluded is False
        assert AuditEvent.objects.filter(
            organization=org, action="roster.provider.exclusion_cleared", source="OIG"
        ).exists()


def test_a_confirmed_exclusion_dropped_from_the_full_list_surfaces_too(
    tenant_a, screened, tmp_path
):
    provider, hit = screened
    with tenant_context(tenant_a.org):
        hit_confirm(org=tenant_a.org, actor=coordinator(tenant_a), hit=hit)
    without = b"\n".join(
        line for line in EXCL.read_bytes().split(b"\n") if not line.startswith(b'"ALI"')
    )
    (tmp_path / "UPDATED.csv").write_bytes(without)
    version = load_dataset(source="leie", origin=str(tmp_path / "UPDATED.csv"), kind="full").version
    rescreen(tenant_a.org)
    with tenant_context(tenant_a.org):
        item = ScreeningHit.objects.get(provider=provider, kind=HitKind.REINSTATEMENT)
        provider.refresh_from_db()
    assert "no longer on the OIG LEIE list" in item.explanation["notes"][0]
    assert item.dataset_version == version
    assert provider.excluded is True  # until a coordinator confirms the item


def test_the_provider_history_shows_each_list_checked_with_its_version(tenant_a, leie):
    org = tenant_a.org
    provider = make_provider(org, seed=8, first_name="Clean", last_name="Person")
    load_dataset(
        source="sam", origin=str(FIXTURES / "extract_v2_sample_2023-11.csv"), as_of=SAM_AS_OF
    )
    rescreen(org)
    rescreen(org)
    with tenant_context(org):
        history = provider_screening_history(org, provider)
    latest = {s.source: s for s in history["latest"]}
    assert latest["leie"].outcome == "clean" and latest["leie"].version == leie
    assert latest["sam"].outcome == "clean"
    assert len(history["results"]) == 4 and history["open_hits"] == []


def test_the_dashboard_summary_counts_the_last_runs_new_hits_by_kind(tenant_a, screened):
    provider, hit = screened
    with tenant_context(tenant_a.org):
        summary = screening_dashboard_summary(tenant_a.org)
    assert summary["new_by_kind"]["npi"] == 1 and summary["new_total"] == 1
    assert summary["to_review"] == 1 and summary["screened"] == 1
    assert summary["top_new_hits"] == [hit]
    assert summary["top"][0]["provider"] == provider
    assert summary["top"][0]["label"] == "OIG LEIE · Exact NPI"
    assert summary["last_run_at"] is not None and summary["url"] == "/o/acme-health/screening/"


def test_terminated_providers_are_not_screened(tenant_a, leie):
    make_provider(tenant_a.org, seed=9, npi=ALI_NPI, status="terminated")
    run = rescreen(tenant_a.org)
    with tenant_context(tenant_a.org):
        assert run.providers_total == 0 and not ScreeningHit.objects.exists()
        assert Provider.objects.count() == 1
