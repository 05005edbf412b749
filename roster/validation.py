"""Identifier and code checks shared by forms, the API and the CSV import."""

from __future__ import annotations

import re

NPI_RE = re.compile(r"^\d{10}$")
# DEA registration number: the registrant-type letter, the registrant's last-name initial (or 9
# for a registration under a business name), seven digits whose last is a check digit.
DEA_RE = re.compile(r"^[A-Z][A-Z9]\d{7}$")
# Registrant-type letters in use: A, B, F and G practitioners (F and G since the earlier letters
# ran out), M mid-level practitioners (NP, PA, CRNA...), C-L businesses (practitioner-owned
# clinics, teaching institutions, manufacturers, distributors, researchers, labs, importers,
# exporters, reverse distributors), P-U narcotic treatment programs and distributors, X the
# former DATA-waiver (buprenorphine) registrations. I, O, V, W, Y and Z are not issued.
DEA_TYPE_LETTERS = frozenset("ABCDEFGHJKLMNPQRSTUX")
TAXONOMY_RE = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")

# States, DC and territories (USPS codes), plus the armed-forces "states".
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR VI GU AS MP "
    "AA AE AP".split()
)


def luhn_sum(digits: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # rightmost digit of the payload is doubled (check digit excluded)
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total


def npi_check_digit(first_nine: str) -> int:
    """CMS: Luhn over 80840 + the first 9 digits (equivalently, add 24 to their Luhn sum)."""
    total = luhn_sum(first_nine) + 24
    return (10 - total % 10) % 10


def npi_problem(value: str) -> str | None:
    """None if valid, else a sentence saying what is wrong."""
    value = (value or "").strip()
    if not NPI_RE.match(value):
        return "An NPI is exactly 10 digits."
    if value[0] not in "12":
        return "An NPI starts with 1 or 2."
    if npi_check_digit(value[:9]) != int(value[9]):
        return "This NPI fails its check digit; check for a typo."
    return None


def dea_check_digit(six: str) -> int:
    """(d1 + d3 + d5) + 2 * (d2 + d4 + d6): its last digit is the seventh digit."""
    d = [int(c) for c in six]
    return ((d[0] + d[2] + d[4]) + 2 * (d[1] + d[3] + d[5])) % 10


def dea_problem(value: str) -> str | None:
    """None if `value` is a well-formed DEA number with a right check digit, else why not."""
    value = (value or "").strip().upper()
    if not DEA_RE.match(value):
        return (
            "A DEA number is a letter for the registrant type, the registrant's last-name "
            "initial (or 9 for a business), then seven digits, e.g. AB1234563 or F91234563."
        )
    if value[0] not in DEA_TYPE_LETTERS:
        return (
            f"{value[0]} is not a DEA registrant type; a DEA number starts with A, B, F or G "
            "(practitioners), M (mid-level practitioners) or another type letter (C-L, P-U, X)."
        )
    if dea_check_digit(value[2:8]) != int(value[8]):
        return "This DEA number fails its check digit; check for a typo."
    return None


def state_problem(value: str) -> str | None:
    if (value or "").strip().upper() not in US_STATES:
        return "Use a two-letter US state or territory code (e.g. CA, NY, PR)."
    return None
