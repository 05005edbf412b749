"""Credential fields from a document's text (PDF text layer or OCR output).

Label-driven: each field has label variants ("Expiration Date", "Expires", "Exp.", "Valid
Through" ...), looked for on the same line as the value, on the line above it, or as a
header row over a row of values. Dates come in many shapes; OCR noise (O for 0, l for 1,
stray spaces) is repaired before reading numbers and dates. Every value gets a confidence:
how directly it was labelled, lowered for OCR and by validation problems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from verifications.extraction.base import FieldValue

# --- dates ----------------------------------------------------------------------------------
MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_YEAR = r"(?:19|20)\d\d"
_DATE = (
    rf"(?:{_YEAR}\s?-\s?\d{{1,2}}\s?-\s?\d{{1,2}}"
    rf"|\d{{1,2}}\s?[/.\-]\s?\d{{1,2}}\s?[/.\-]\s?{_YEAR}"
    rf"|{_MONTH}\.{{0,2}}\s*\d{{1,2}}(?:st|nd|rd|th)?\s?[,.;]?\s+{_YEAR}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\.?,?\s+{_YEAR})"
)
DATE_RE = re.compile(rf"(?<![\d/.\-]){_DATE}(?![\d/])", re.I)
_RANGE_SEP = r"\s*(?:to|through|thru|until|-|–|—)\s*"
RANGE_RE = re.compile(rf"({_DATE}){_RANGE_SEP}({_DATE})", re.I)

_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "Q": "0", "l": "1", "I": "1", "|": "1"})


def fix_digits(text: str) -> str:
    """Repair OCR's letter-for-digit swaps inside digit runs ("0l/3l/2O27" -> "01/31/2027")."""

    def repl(match: re.Match) -> str:
        token = match.group(0)
        if sum(ch.isdigit() for ch in token) >= 2:
            return token.translate(_OCR_DIGITS)
        return token

    return re.sub(r"[0-9OoQlI|][0-9OoQlI|/.\-]{2,}", repl, text)


def parse_date(text: str) -> date | None:
    """One date in any of the supported shapes, or None (invalid calendar dates too)."""
    text = re.sub(r"\s+", " ", fix_digits((text or "").strip())).strip(" .,")
    if not text:
        return None
    match = DATE_RE.search(text)
    if not match:
        return None
    return _to_date(match.group(0))


def _to_date(raw: str) -> date | None:
    raw = re.sub(r"\s*([/.\-])\s*", r"\1", raw.strip().lower())
    raw = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", raw).replace(",", " ").replace(";", " ")
    try:
        if m := re.fullmatch(rf"({_YEAR})-(\d{{1,2}})-(\d{{1,2}})", raw):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(rf"(\d{{1,2}})[/.\-](\d{{1,2}})[/.\-]({_YEAR})", raw):
            month, day = int(m[1]), int(m[2])
            if month > 12 >= day:  # 31/01/2027: day first is the only reading that works
                month, day = day, month
            return date(int(m[3]), month, day)
        words = raw.replace(".", " ").split()
        if len(words) == 3:
            if words[0][:3] in MONTHS:
                return date(int(words[2]), MONTHS[words[0][:3]], int(words[1]))
            if words[1][:3] in MONTHS:
                return date(int(words[2]), MONTHS[words[1][:3]], int(words[0]))
    except ValueError:
        return None
    return None


# --- states ---------------------------------------------------------------------------------
STATE_NAMES = {
    "alabama": "AL",
    "alaska": "AK",
    "arizona": "AZ",
    "arkansas": "AR",
    "california": "CA",
    "colorado": "CO",
    "connecticut": "CT",
    "delaware": "DE",
    "district of columbia": "DC",
    "florida": "FL",
    "georgia": "GA",
    "hawaii": "HI",
    "idaho": "ID",
    "illinois": "IL",
    "indiana": "IN",
    "iowa": "IA",
    "kansas": "KS",
    "kentucky": "KY",
    "louisiana": "LA",
    "maine": "ME",
    "maryland": "MD",
    "massachusetts": "MA",
    "michigan": "MI",
    "minnesota": "MN",
    "mississippi": "MS",
    "missouri": "MO",
    "montana": "MT",
    "nebraska": "NE",
    "nevada": "NV",
    "new hampshire": "NH",
    "new jersey": "NJ",
    "new mexico": "NM",
    "new york": "NY",
    "north carolina": "NC",
    "north dakota": "ND",
    "ohio": "OH",
    "oklahoma": "OK",
    "oregon": "OR",
    "pennsylvania": "PA",
    "rhode island": "RI",
    "south carolina": "SC",
    "south dakota": "SD",
    "tennessee": "TN",
    "texas": "TX",
    "utah": "UT",
    "vermont": "VT",
    "virginia": "VA",
    "washington": "WA",
    "west virginia": "WV",
    "wisconsin": "WI",
    "wyoming": "WY",
    "puerto rico": "PR",
}
STATE_CODES = frozenset(STATE_NAMES.values()) | {"VI", "GU", "AS", "MP"}
# Longest first, so "West Virginia" wins over "Virginia" and "Arkansas" over "Kansas".
_STATE_NAME_RE = re.compile(
    r"\b("
    + "|".join(
        re.escape(n).replace(r"\ ", r"\s+") for n in sorted(STATE_NAMES, key=len, reverse=True)
    )
    + r")\b",
    re.I,
)


def state_code(text: str) -> str | None:
    """A two-letter code from a code or a state's name ("tx", "Texas", "New  York")."""
    text = (text or "").strip()
    if text.upper() in STATE_CODES and len(text) == 2:
        return text.upper()
    match = _STATE_NAME_RE.search(text)
    if match:
        return STATE_NAMES[re.sub(r"\s+", " ", match.group(1).lower())]
    return None


# --- labels ---------------------------------------------------------------------------------
EXPIRY_LABEL = (
    r"(?:date\s*of\s*expiration|expiration\s*date|expiration|expiry\s*date|expiry"
    r"|expires?(?:\s*on)?|\bexp\.?\s*date|\bexp\.|\bexp\b|valid\s*(?:through|thru|until|to)"
    r"|good\s*(?:through|thru)|active\s*through|certified\s*through|renewal\s*date)"
)
ISSUE_LABEL = (
    r"(?:date\s*of\s*issue|issue\s*date|date\s*issued|original\s*issue(?:\s*date)?"
    r"|issued(?!\s*(?:by|to))(?:\s*on)?|initial\s*(?:issue|certification)(?:\s*date)?"
    r"|effective\s*date|effective|valid\s*from|certified\s*(?:on|since)|certification\s*date"
    r"|registration\s*date|date\s*certified)"
)
NUMBER_LABEL = (
    r"(?:(?:dea\s*|cds\s*|state\s*|controlled\s*substances?\s*)?"
    r"(?:license|licence|lic\.?|registration|reg\.?|certificate|certification|cert\.?"
    r"|policy|permit|diplomate|board\s*certification)\s*(?:no\.?|number|num\.?|#|id\b)"
    r"|policy\s*#|(?:dea|cds)\s*(?:#|no\.?|number)|(?:license|policy|certificate|registration)(?=\s*:))"
)
NAME_WORD = (
    r"(?:licensee(?:\s*name)?|registrant(?:\s*name)?|named\s*insured|name\s*of\s*insured"
    r"|insured(?:\s*name)?|diplomate(?!\s*(?:no|number|#|id))|physician|practitioner"
    r"|issued\s*to|certificate\s*holder|name\s*of\s*(?:licensee|registrant)|name)"
)
NAME_LABEL = NAME_WORD + r"\s*:"
ISSUER_LABEL = (
    r"(?:issued\s*by|issuing\s*(?:authority|board|agency)|certifying\s*board"
    r"|insurer|carrier|insurance\s*company|underwritten\s*by|board)\s*:"
)
STATE_LABEL = r"(?:state\s*of\s*(?:issue|licensure|registration)|issuing\s*state|state)\s*:"

_ANY_LABEL = re.compile(
    "|".join(
        f"(?:{p})" for p in (EXPIRY_LABEL, ISSUE_LABEL, NUMBER_LABEL, NAME_LABEL, ISSUER_LABEL)
    )
    + "|"
    + STATE_LABEL,
    re.I,
)
_SEP = re.compile(r"^[\s:#.\-–—]*")


@dataclass
class _Candidate:
    value: str
    confidence: float
    snippet: str
    order: int


class _Collector:
    def __init__(self):
        self.found: dict[str, list[_Candidate]] = {}
        self.order = 0

    def add(self, name: str, value, confidence: float, snippet: str) -> None:
        if value in (None, ""):
            return
        self.order += 1
        text = value.isoformat() if isinstance(value, date) else str(value)
        self.found.setdefault(name, []).append(
            _Candidate(text, confidence, snippet.strip()[:200], self.order)
        )

    def best(self) -> dict[str, FieldValue]:
        out = {}
        for name, candidates in self.found.items():
            top = max(candidates, key=lambda c: (c.confidence, -c.order))
            out[name] = FieldValue(top.value, top.confidence, top.snippet)
        return out


def _lines(text: str) -> list[str]:
    lines = []
    for raw in (text or "").splitlines():
        line = re.sub(r"[ \t\u00a0]+", " ", raw).strip()
        if line:
            lines.append(line)
    return lines


def _after(line: str, end: int) -> str:
    """The value part after a label: up to the next label on the same line."""
    rest = line[end:]
    rest = rest[_SEP.match(rest).end() :]
    nxt = _ANY_LABEL.search(rest)
    if nxt:
        rest = rest[: nxt.start()]
    return rest.strip(" ,;|")


def _is_label_only(line: str) -> bool:
    """A line made of labels alone (a header row or a label above its value)."""
    return not _ANY_LABEL.sub("", line).strip(" :#.-–—|")


# --- dates ----------------------------------------------------------------------------------
def _dates(lines: list[str], found: _Collector) -> None:
    for i, line in enumerate(lines):
        fixed = fix_digits(line)
        for match in RANGE_RE.finditer(fixed):
            start, end = _to_date(match.group(1)), _to_date(match.group(2))
            if start and end and end > start:
                labelled = re.search(r"period|term|coverage|valid|effective|policy", fixed, re.I)
                conf = 0.9 if labelled else 0.7
                found.add("issue_date", start, conf, line)
                found.add("expiry_date", end, conf, line)
        for field, label in (("expiry_date", EXPIRY_LABEL), ("issue_date", ISSUE_LABEL)):
            for match in re.finditer(label, fixed, re.I):
                rest = _after(fixed, match.end())
                if RANGE_RE.match(rest):
                    continue  # "Valid from A to B": the range above read it
                value = _to_date(DATE_RE.match(rest).group(0)) if DATE_RE.match(rest) else None
                if value:
                    found.add(field, value, 0.95, line)
                    continue
                if rest or i + 1 >= len(lines):
                    continue
                _date_below(lines, i, fixed, match, field, found)
    _unlabelled_dates(lines, found)


def _date_below(lines, i, fixed, match, field, found) -> None:
    """A label with its value on the next line: alone, or a header row over a row of dates."""
    below = fix_digits(lines[i + 1])
    dates = [m.group(0) for m in DATE_RE.finditer(below)]
    if not dates:
        return
    labels = [
        m.start()
        for m in re.finditer(f"(?:{EXPIRY_LABEL})|(?:{ISSUE_LABEL})", fixed, re.I)
        if not fixed[m.end() : m.end() + 1].isalpha()
    ]
    position = labels.index(match.start()) if match.start() in labels else 0
    if len(labels) == len(dates):
        value = _to_date(dates[position])
        found.add(field, value, 0.85, f"{lines[i]} / {lines[i + 1]}")
    elif len(labels) == 1 and len(dates) == 1:
        found.add(field, _to_date(dates[0]), 0.85, f"{lines[i]} / {lines[i + 1]}")


def _unlabelled_dates(lines: list[str], found: _Collector) -> None:
    """No label at all: the latest date is probably the expiry (low confidence)."""
    if "expiry_date" in found.found:
        return
    dates = []
    for line in lines:
        for m in DATE_RE.finditer(fix_digits(line)):
            value = _to_date(m.group(0))
            if value:
                dates.append((value, line))
    if len(dates) >= 2:
        latest = max(dates)
        found.add("expiry_date", latest[0], 0.35, latest[1])
        if "issue_date" not in found.found:
            earliest = min(dates)
            if earliest[0] < latest[0]:
                found.add("issue_date", earliest[0], 0.3, earliest[1])


# --- numbers --------------------------------------------------------------------------------
# Inner dots and slashes belong to the number (Ohio "35.123456", "MD/12345").
_TOKEN = re.compile(r"[A-Z0-9][A-Z0-9\-./]*[A-Z0-9]|[0-9]", re.I)
DEA_LETTERS = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B", "2": "Z", "6": "G"})
DEA_DIGITS = str.maketrans(
    {"O": "0", "o": "0", "Q": "0", "D": "0", "I": "1", "l": "1", "|": "1", "S": "5", "B": "8"}
)
DEA_LOOSE = re.compile(r"(?<![A-Z0-9])([A-Z0-9]{2})\s?((?:[0-9OoQDIl|SB]\s?){6}[0-9OoQDIl|SB])\b")


def clean_number(raw: str, document_kind: str) -> str:
    """A credential number as printed, with OCR's digit confusions repaired."""
    raw = raw.strip().upper()
    if document_kind == "dea":
        compact = re.sub(r"[\s\-]", "", raw)
        if len(compact) == 9:
            return compact[:2].translate(DEA_LETTERS) + compact[2:].translate(DEA_DIGITS)
        return compact
    # Letters before the first digit are a prefix; after it, O and I/L are 0 and 1.
    match = re.search(r"\d", raw)
    if not match:
        return raw
    head, tail = raw[: match.start()], raw[match.start() :]
    return head + tail.translate(str.maketrans({"O": "0", "I": "1", "L": "1", "|": "1"}))


def _number_from(rest: str, document_kind: str) -> str | None:
    if document_kind == "dea":
        match = DEA_LOOSE.search(rest.upper())
        if match:
            return clean_number(match.group(1) + match.group(2), "dea")
    # OCR sometimes splits a prefix from its digits: "A 123456".
    rest = re.sub(r"\b([A-Z]{1,3})\s(\d{4,})\b", r"\1\2", rest.upper())
    for token in _TOKEN.findall(rest):
        if any(ch.isdigit() for ch in token) and 3 <= len(token) <= 30:
            return clean_number(token, document_kind)
    return None


def _numbers(lines: list[str], document_kind: str, found: _Collector) -> None:
    for i, line in enumerate(lines):
        for match in re.finditer(NUMBER_LABEL, line, re.I):
            rest = _after(line, match.end())
            value = _number_from(rest, document_kind) if rest else None
            if value:
                found.add("number", value, 0.9, line)
            elif not rest and i + 1 < len(lines) and not _is_label_only(lines[i + 1]):
                below = lines[i + 1]
                if _is_label_only(line) and len(_ANY_LABEL.findall(line)) > 1:
                    # A header row over a row of values: only the first column is certain.
                    if _ANY_LABEL.search(line).start() != match.start():
                        continue
                    below = below.split()[0]
                value = _number_from(below, document_kind)
                if value:
                    found.add("number", value, 0.8, f"{line} / {below}")
    if document_kind == "dea" and "number" not in found.found:
        from roster.validation import dea_problem

        for line in lines:
            for match in DEA_LOOSE.finditer(line.upper()):
                value = clean_number(match.group(1) + match.group(2), "dea")
                if not dea_problem(value):
                    found.add("number", value, 0.7, line)
                    return


# --- names, issuers, states -----------------------------------------------------------------
_DEGREES = re.compile(
    r",?\s*\b(?:M\.?D|D\.?O|N\.?P|P\.?A(?:-C)?|R\.?N|D\.?D\.?S|D\.?M\.?D|Ph\.?D|APRN|CRNA|FNP)\b\.?",
    re.I,
)


def clean_name(raw: str) -> str:
    name = _DEGREES.sub("", re.sub(r"[^A-Za-z .,'\-]", " ", raw))
    name = re.sub(r"\s+", " ", name).strip(" ,.-")
    name = re.sub(r"\b([A-Z]),(?= [A-Za-z])", r"\1.", name)  # OCR: a middle initial's dot
    return name[:120]


def _names(lines: list[str], found: _Collector) -> None:
    for i, line in enumerate(lines):
        if re.fullmatch(NAME_WORD + r"\s*:?", line, re.I) and i + 1 < len(lines):
            name = clean_name(lines[i + 1])  # a label above its value
            if 2 <= len(name.split()) <= 6:
                found.add("name", name, 0.85, f"{line} / {lines[i + 1]}")
            continue
        for match in re.finditer(NAME_LABEL, line, re.I):
            rest = _after(line, match.end())
            if not rest and i + 1 < len(lines) and not _is_label_only(lines[i + 1]):
                rest = _after(lines[i + 1], 0)
            name = clean_name(rest)
            if len(name.split()) >= 2:
                found.add("name", name, 0.9, line)
        match = re.search(r"certif(?:y|ies)\s+that\s*:?\s*(.*)$", line, re.I)
        if match:
            rest = match.group(1).strip()
            if not rest and i + 1 < len(lines):
                rest = lines[i + 1]
            rest = re.split(r"\s+(?:has|is|having|was|holds)\b", rest, maxsplit=1)[0]
            name = clean_name(rest)
            if 2 <= len(name.split()) <= 6:
                found.add("name", name, 0.8, line)


# Title lines that name the issuer, strongest hint first.
_ISSUER_HINTS = {
    "license": [r"board", r"department|division\s+of|commission|bureau"],
    "cds": [r"board\s+of\s+pharmacy|bureau|division|department", r"board"],
    "board_cert": [r"american\s+(?:osteopathic\s+)?board\s+of", r"\bboard\s+of"],
    "malpractice": [
        r"insurance\s+(?:company|co\b|exchange|group|trust)|mutual|assurance|indemnity"
        r"|risk\s+retention|underwriters|reciprocal",
        # Weaker: a carrier's letterhead without those words ("The Doctors Company").
        r"\b(?:company|insurance|insurers?|protective)\b",
    ],
}


def clean_issuer(raw: str) -> str:
    issuer = re.sub(r"\s+", " ", raw).strip(" ,.:;-|")
    return issuer[:200]


def _issuers(lines: list[str], document_kind: str, found: _Collector) -> None:
    for i, line in enumerate(lines):
        for match in re.finditer(ISSUER_LABEL, line, re.I):
            rest = _after(line, match.end())
            if not rest and i + 1 < len(lines) and not _is_label_only(lines[i + 1]):
                rest = lines[i + 1]
            if len(rest) >= 3:
                found.add("issuer", clean_issuer(rest), 0.9, line)
    if document_kind == "dea":
        text = " ".join(lines).lower()
        if "drug enforcement" in text or "department of justice" in text:
            found.add("issuer", "Drug Enforcement Administration", 0.9, "Drug Enforcement")
        return
    titles = [
        line
        for line in lines[:12]
        if len(line) <= 80
        and not _ANY_LABEL.search(line)
        and not re.search(
            r"certif(?:y|ies)\s+that|^this\b"
            r"|^the\s+(?:above|following|person|named|undersigned|holder|licensee)\b",
            line,
            re.I,
        )
    ]
    for hint in _ISSUER_HINTS.get(document_kind, []):
        for line in titles:
            if re.search(hint, line, re.I):
                found.add("issuer", clean_issuer(line), 0.7, line)
                return


def _states(lines: list[str], document_kind: str, found: _Collector) -> None:
    for line in lines:
        for match in re.finditer(STATE_LABEL, line, re.I):
            code = state_code(_after(line, match.end())[:30])
            if code:
                found.add("state", code, 0.9, line)
    issuer = found.found.get("issuer")
    if issuer:
        best = max(issuer, key=lambda c: c.confidence)
        code = state_code(best.value)
        if code:
            found.add("state", code, 0.85, best.snippet)
    for line in lines[:8]:
        match = re.search(r"\bstate\s+of\s+([a-z ]{4,30})", line, re.I)
        if match and (code := state_code(match.group(1))):
            found.add("state", code, 0.8, line)
    if document_kind in ("dea", "cds") and "state" not in found.found:
        for line in lines:
            match = re.search(r",\s*([A-Z]{2})\s+\d{5}(?:-\d{4})?\b", line)
            if match and match.group(1) in STATE_CODES:
                found.add("state", match.group(1), 0.6, line)
                return


# --- the whole document ---------------------------------------------------------------------
def parse_fields(text: str, document_kind: str) -> dict[str, FieldValue]:
    """Every field found in `text` for a document of `document_kind`, with confidence."""
    lines = _lines(text)
    found = _Collector()
    _dates(lines, found)
    _numbers(lines, document_kind, found)
    _names(lines, found)
    _issuers(lines, document_kind, found)
    if document_kind != "malpractice" and document_kind != "board_cert":
        _states(lines, document_kind, found)
    return found.best()
