"""The Django forms of the committee, enrollment, screening and members pages: dates are
YYYY-MM-DD from 1900 to 2199, repeated ids keep only the UUIDs, and a form's errors reach
the page as the service's do (a 400, nothing written)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.http import QueryDict

from audit.models import AuditEvent
from committee.forms import DecisionForm, NotifiedForm
from credex.errors import InvalidInput
from credex.forms import MemberRemoveForm
from enrollment.forms import TransitionForm
from screening.forms import BulkDismissForm, RowLayoutForm
from tests.test_committee import fresh, mark_ready, ready_provider
from tests.test_committee import url as committee_url
from tests.test_enrollment import S, new_enrollment, state, walk
from tests.test_enrollment import url as enrollment_url


def posted(**values) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in values.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return data


def test_a_date_is_typed_as_yyyy_mm_dd_and_empty_is_none():
    form = DecisionForm(posted(decision="approved", decision_date=" 2026-05-14 "))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["decision_date"] == date(2026, 5, 14)
    empty = NotifiedForm(posted(notified_on=""))
    assert empty.is_valid() and empty.cleaned_data["notified_on"] is None


@pytest.mark.parametrize("typed", ["14/05/2026", "2026-13-01", "tomorrow", "9" * 30])
def test_a_date_in_another_shape_is_the_fields_own_message(typed):
    form = DecisionForm(posted(decision_date=typed))
    assert not form.is_valid()
    assert form.errors["decision_date"] == ["Enter the decision date like 2026-05-14."]


@pytest.mark.parametrize("typed", ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"])
def test_a_date_outside_1900_to_2199_is_refused(typed):
    form = NotifiedForm(posted(notified_on=typed))
    assert not form.is_valid()
    assert form.errors["notified_on"] == ["Enter a date between 1900 and 2199."]


def test_validated_raises_the_form_errors_as_an_invalid_input():
    form = TransitionForm(posted(on="0001-01-01"))
    with pytest.raises(InvalidInput) as caught:
        form.validated()
    assert caught.value.details == {
        "to": "Choose the next step.",
        "on": "Enter a date between 1900 and 2199.",
    }
    assert caught.value.message == "Choose the next step."


def test_repeated_ids_keep_only_the_uuids_and_flags_are_sent_as_1():
    one = uuid.uuid4()
    values = BulkDismissForm(posted(ids=[str(one), "junk", "9" * 30], note="n")).validated()
    assert values == {"ids": [one], "note": "n"}
    layout = RowLayoutForm(posted(selectable="1", compact="yes")).validated()
    assert layout == {"selectable": True, "compact": False, "stacked": False}


def test_member_removal_without_a_choice_leaves_the_work_unassigned():
    assert MemberRemoveForm(posted()).validated()["reassign_to"] == "unassigned"
    assert MemberRemoveForm(posted(reassign_to="me")).validated()["reassign_to"] == "me"


@pytest.mark.django_db
def test_a_year_1_decision_through_the_page_is_a_400_with_the_field_error_and_no_write(
    tenant_a, login
):
    review = mark_ready(tenant_a, ready_provider(tenant_a, seed=41))
    events = AuditEvent.objects.count()
    response = login(tenant_a.coordinator).post(
        committee_url(tenant_a, "committee_review", review_id=review.pk),
        {"decision": "approved", "decision_date": "0001-01-01", "minutes": "kept"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a date between 1900 and 2199." in body and "kept" in body
    assert fresh(tenant_a, review).decision == ""
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_a_year_9999_effective_date_through_the_row_is_a_400_and_changes_nothing(tenant_a, login):
    enrollment = walk(tenant_a, new_enrollment(tenant_a), S.SUBMITTED)
    before = state(tenant_a, enrollment)
    response = login(tenant_a.coordinator).post(
        enrollment_url(tenant_a, "enrollment_transition", enrollment_id=enrollment.pk),
        {"to": "approved", "effective_date": "9999-01-01", "note": "typed"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="enr-{enrollment.pk}-eff-error"' in body
    assert "Enter a date between 1900 and 2199." in body and 'value="typed"' in body
    assert state(tenant_a, enrollment) == before
