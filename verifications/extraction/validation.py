"""Checks on suggested values: what can be validated is, and findings lower the confidence.

Problems are shown to the reviewer beside the values ({"field", "code", "message"}); they
never block a suggestion, since the reviewer may correct the value.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from roster.validation import dea_problem
from verifications.extraction.base import FieldValue
from verifications.extraction.parsing import STATE_CODES

# Kinds whose credential belongs to one state.
STATE_KINDS = ("license", "cds", "dea")


def dea_name_problem(number: str, last_name: str) -> str | None:
    """A practitioner's DEA number repeats the first letter of the registrant's last name."""
    number, last_name = (number or "").strip().upper(), (last_name or "").strip().upper()
    if len(number) < 2 or not last_name or not last_name[0].isalpha():
        return None
    if number[1] != last_name[0] and number[1] != "9":  # 9: registered under a business name
        return (
            f"The second letter of a DEA number is the first letter of the registrant's last "
            f"name ({last_name[0]}); this one has {number[1]}."
        )
    return None


def _name_key(name: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", (name or "").lower()) if len(w) > 1}


def _problem(problems: list, field: str, code: str, message: str) -> None:
    problems.append({"field": field, "code": code, "message": message})


def validate_fields(
    fields: dict[str, FieldValue],
    *,
    document_kind: str,
    last_name: str = "",
    full_name: str = "",
    today: date | None = None,
) -> tuple[dict[str, FieldValue], list[dict]]:
    """(fields with confidence lowered where a check failed, the problems found)."""
    today = today or date.today()
    problems: list[dict] = []
    fields = dict(fields)
    lowered: set[str] = set()
    number = fields.get("number")
    if number and document_kind == "dea":
        problem = dea_problem(number.value)
        if problem:
            _problem(problems, "number", "dea_check_digit", problem)
            lowered.add("number")
        name_problem = dea_name_problem(number.value, last_name)
        if name_problem:
            _problem(problems, "number", "dea_last_name", name_problem)
            lowered.add("number")
    state = fields.get("state")
    if state and state.value not in STATE_CODES:
        _problem(problems, "state", "not_a_state", f"{state.value} is not a US state code.")
        lowered.add("state")
    if document_kind in STATE_KINDS and not state:
        _problem(problems, "state", "missing", "No issuing state was found on the document.")
    issue, expiry = fields.get("issue_date"), fields.get("expiry_date")
    if issue and expiry and expiry.value <= issue.value:
        _problem(
            problems,
            "expiry_date",
            "expiry_before_issue",
            "The expiry date is not after the issue date.",
        )
        lowered.update({"issue_date", "expiry_date"})
    if expiry and date.fromisoformat(expiry.value) < today:
        _problem(problems, "expiry_date", "expired", "The document shows it has expired.")
    if not expiry:
        _problem(problems, "expiry_date", "missing", "No expiration date was found.")
    name = fields.get("name")
    if name and full_name and not (_name_key(name.value) & _name_key(last_name or full_name)):
        _problem(
            problems,
            "name",
            "name_mismatch",
            f"The name on the document ({name.value}) does not match {full_name}.",
        )
        lowered.add("name")
    for key in lowered:
        if key in fields:
            fields[key] = replace(fields[key], confidence=round(fields[key].confidence * 0.5, 2))
    return fields, problems
