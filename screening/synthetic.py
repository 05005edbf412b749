"""Synthetic LEIE and SAM files with the real headers (demo data and the benchmark).

Names are made of syllables, so no row is a real person; the shipped real samples are for
tests only. Deterministic for a given random seed.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from screening.loaders import LEIE_HEADER, SAM_HEADER

# onset + vowel + coda: about 900 syllables, so two or three make a rare name.
_SYLLABLES = [
    onset + vowel + coda
    for onset in ("b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w")
    for vowel in ("a", "e", "i", "o", "u", "ei", "ou")
    for coda in ("", "l", "n", "r", "s", "t", "rd", "ck")
]
FIRST_NAMES = (
    "Aaron Abigail Adrian Alana Albert Alice Amara Andre Anita Arthur Beatrice Bennett Bianca "
    "Bruno Caleb Camila Carmen Cedric Celia Clara Colin Dalia Damon Daria Delia Dennis Diego "
    "Edith Elena Elias Elliot Emil Erin Esther Felix Fiona Flora Gavin Gemma Gideon Greta "
    "Hana Harvey Helena Hugo Ida Imani Irene Isaac Ivan Jada Jasper Joanna Jonah Julia Kara "
    "Kendall Kiran Lana Leon Lila Lionel Lorena Lucas Mabel Malik Marta Milo Mira Nadia "
    "Nathan Nell Nico Nora Oscar Olga Omar Paloma Pearl Petra Quentin Rafael Rhea Rosa Rufus "
    "Sabine Selma Silas Talia Tobias Uma Vera Victor Wanda Wes Xavier Yara Yusuf Zara Zeke"
).split()
STATES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
).split()
EXCLTYPES = ["1128a1", "1128a2", "1128a3", "1128a4", "1128b4", "1128b7", "1128b8", "BRCH SA"]
SAM_TYPES = ["Ineligible (Proceedings Completed)", "Ineligible (Proceedings Pending)"]


def last_name(rng: random.Random) -> str:
    parts = rng.choice((2, 2, 3))
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).upper()


def first_name(rng: random.Random) -> str:
    return rng.choice(FIRST_NAMES).upper()


def birth_date(rng: random.Random) -> date:
    return date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 60))


def npi_with_check_digit(nine: str) -> str:
    """A valid NPI from nine digits (Luhn over 80840 + the digits)."""
    digits = [int(d) for d in "80840" + nine]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return nine + str((10 - total % 10) % 10)


def leie_row(
    rng: random.Random,
    *,
    last: str | None = None,
    first: str | None = None,
    dob: date | None = None,
    npi: str = "",
    state: str | None = None,
    busname: str = "",
) -> list[str]:
    """One LEIE row as the file writes it (dates YYYYMMDD, 00000000 and 0000000000 = none)."""
    individual = not busname
    excl = date(2000, 1, 1) + timedelta(days=rng.randrange(0, 9000))
    return [
        (last or last_name(rng)) if individual else "",
        (first or first_name(rng)) if individual else "",
        (rng.choice("ABCDEFGHJKLMNPRSTW") + " ") if individual and rng.random() < 0.6 else " ",
        busname,
        rng.choice(["IND- LIC HC SERV PRO", "DOCTOR(MD, DO)", "EMPLOYEE - PRIVATE S"]),
        rng.choice(["NURSE/NURSES AIDE", "GENERAL PRACTICE", "PHARMACY", "PSYCHIATRY"]),
        "",
        npi or "0000000000",
        (dob or birth_date(rng)).strftime("%Y%m%d") if individual else "",
        f"{rng.randrange(1, 9999)} {last_name(rng).title()} ST",
        last_name(rng).title(),
        state or rng.choice(STATES),
        f"{rng.randrange(10000, 99999)}",
        rng.choice(EXCLTYPES),
        excl.strftime("%Y%m%d"),
        "00000000",
        "00000000",
        "",
    ]


def sam_row(
    rng: random.Random,
    *,
    last: str | None = None,
    first: str | None = None,
    npi: str = "",
    state: str | None = None,
    firm: str = "",
    number: int = 0,
) -> list[str]:
    """One SAM extract row (every value quoted when written; dates MM/DD/YYYY)."""
    active = date(2015, 1, 1) + timedelta(days=rng.randrange(0, 3500))
    indefinite = rng.random() < 0.5
    end = (
        "Indefinite"
        if indefinite
        else (active + timedelta(days=3 * 365 + 3650)).strftime("%m/%d/%Y")
    )
    individual = not firm
    return [
        "Individual" if individual else "Firm",
        "" if individual else firm,
        "",
        (first or first_name(rng)) if individual else "",
        "",
        (last or last_name(rng)) if individual else "",
        "",
        "" if individual else f"{rng.randrange(1, 999)} Commerce Way",
        "",
        "",
        "",
        last_name(rng).title(),
        state or rng.choice(STATES),
        "USA",
        f"{rng.randrange(10000, 99999)}",
        "",
        "",
        "",
        "Reciprocal",
        rng.choice(["HHS", "GSA", "OPM", "DOL"]),
        "",
        rng.choice(SAM_TYPES),
        rng.choice(["", "", "Debarred, see record; terms apply — long comment, with commas"]),
        active.strftime("%m/%d/%Y"),
        end,
        "",
        "",
        f"S4MR{number:07d}",
        "",
        npi,
        active.isoformat(),
    ]


def write_leie(path: Path, rows: list[list[str]]) -> Path:
    """The 2016 supplement style: quoted header, quoted values, unquoted empties."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        fh.write(",".join(f'"{h}"' for h in LEIE_HEADER) + "\n")
        for row in rows:
            fh.write(",".join(f'"{v}"' if v else "" for v in (c.replace('"', '""') for c in row)))
            fh.write("\n")
    return path


def write_sam(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(SAM_HEADER)
        writer.writerows(rows)
    return path
