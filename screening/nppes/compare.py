"""Roster vs NPPES, field by field. Pure functions: no network, no database.

What counts as a difference (decisions, since the issue leaves them open):
- name: first and last must agree (case, punctuation, accents and hyphens ignored); a middle
  name or suffix only differs when both sides have one and neither is the other's initial.
  An NPI-2 (organization) NPI on a clinician's record is a high-severity name mismatch.
- credential text: NPPES's free text ("M.D., PH.D.") is split into tokens; it agrees when
  one token names our provider type (MD, DO, NP via APRN/FNP..., PA via PA-C...). Empty on
  the NPPES side = nothing to compare.
- primary taxonomy: the codes differ (ours empty and NPPES set counts).
- secondary taxonomies: the sets of codes other than both sides' primaries differ, so a
  swapped primary is one mismatch, not two.
- practice address: NPPES's LOCATION address vs the provider's address, on the normalized
  street line (USPS abbreviations, unit designators), city, state and the 5-digit ZIP.
- licenses: a license NPPES lists on a taxonomy (state + number, normalized: upper case,
  letters and digits only, leading zeros dropped) that the roster's state licenses lack.
  Roster licenses missing from NPPES are not flagged: NPPES is self-reported and often lists
  one license only; nothing could be taken from it anyway.
- authorized official (organizations, NPI-2): the person NPPES names as the organization's
  authorized official is not the one last acknowledged (first and last name compared; a new
  title or phone of the same person is not a change). The first answer that names an official
  sets the acknowledged one (there is nothing to compare it with); accepting the difference
  acknowledges the new official. Medium: the official signs payer enrollments.
- status: NPPES says the NPI is deactivated (status other than "A" or a deactivation date
  without a later reactivation) while the roster has the provider as applicant or active:
  high severity.

The hash that identifies a mismatch is computed from the normalized NPPES side only, so a
dismissal lasts until NPPES changes that field.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from screening.nppes.parse import NppesRecord, format_postal, license_key, postal_digits

# NPPES credential tokens -> roster provider types (roster.models.PROVIDER_TYPES).
CREDENTIAL_TYPES: dict[str, str] = {
    "MD": "MD",
    "DO": "DO",
    "NP": "NP",
    "APRN": "NP",
    "ARNP": "NP",
    "CRNP": "NP",
    "CNP": "NP",
    "FNP": "NP",
    "FNPC": "NP",
    "FNPBC": "NP",
    "ANP": "NP",
    "ANPBC": "NP",
    "AGNP": "NP",
    "AGNPC": "NP",
    "AGACNP": "NP",
    "ACNP": "NP",
    "PMHNP": "NP",
    "PMHNPBC": "NP",
    "WHNP": "NP",
    "PNP": "NP",
    "NPC": "NP",
    "PA": "PA",
    "PAC": "PA",
    "CRNA": "CRNA",
    "CNM": "CNM",
    "DDS": "DDS",
    "DMD": "DMD",
    "DPM": "DPM",
    "DC": "DC",
    "OD": "OD",
    "PHD": "PHD",
    "PSYD": "PHD",
    "LCSW": "LCSW",
    "LICSW": "LCSW",
    "LPC": "LPC",
    "LPCC": "LPC",
    "LMHC": "LPC",
    "LMFT": "LMFT",
    "MFT": "LMFT",
    "PT": "PT",
    "DPT": "PT",
    "MPT": "PT",
    "OT": "OT",
    "OTR": "OT",
    "OTRL": "OT",
    "SLP": "SLP",
    "CCCSLP": "SLP",
    "RD": "RD",
    "RDN": "RD",
}

INACTIVE_STATUSES = {"inactive", "terminated"}

SEVERITY = {
    "status": "high",
    "name": "medium",
    "primary_taxonomy": "medium",
    "licenses": "medium",
    "credential_text": "low",
    "secondary_taxonomies": "low",
    "practice_address": "low",
    "authorized_official": "medium",
}

_STREET_WORDS = {
    "STREET": "ST",
    "AVENUE": "AVE",
    "AV": "AVE",
    "ROAD": "RD",
    "DRIVE": "DR",
    "BOULEVARD": "BLVD",
    "LANE": "LN",
    "COURT": "CT",
    "PLACE": "PL",
    "PARKWAY": "PKWY",
    "HIGHWAY": "HWY",
    "CIRCLE": "CIR",
    "TERRACE": "TER",
    "SQUARE": "SQ",
    "FLOOR": "FL",
    "BUILDING": "BLDG",
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
    "COUNTY": "CTY",
    "MOUNT": "MT",
    "SAINT": "ST",
    "CENTER": "CTR",
    "EXPRESSWAY": "EXPY",
    "FREEWAY": "FWY",
    "TURNPIKE": "TPKE",
    "TRAIL": "TRL",
    "WAY": "WAY",
}
# Unit designators all mean "this unit": "# 307", "STE 307", "SUITE 307" agree.
_UNIT_WORDS = {"#", "STE", "SUITE", "UNIT", "APT", "RM", "ROOM", "NO", "NUMBER"}


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()


def norm_name(value: str) -> str:
    """'O'Brien-Smith ' -> 'OBRIEN SMITH' (case, accents, punctuation, hyphens ignored)."""
    text = _ascii(value).upper().replace("-", " ")
    text = re.sub(r"[^A-Z0-9 ]", "", text)
    return " ".join(text.split())


def _compatible(ours: str, theirs: str) -> bool:
    """Middle names and suffixes: equal, one side empty, or one is the other's initial."""
    a, b = norm_name(ours), norm_name(theirs)
    if not a or not b or a == b:
        return True
    return a[0] == b[0] and (len(a) == 1 or len(b) == 1)


def credential_tokens(text: str) -> list[str]:
    """'M.D., PH.D.' -> ['MD', 'PHD']; 'PA-C' -> ['PAC']."""
    parts = re.split(r"[,;/&]|\s{2,}|\bAND\b", _ascii(text).upper())
    tokens = []
    for part in parts:
        words = part.split()
        joined = re.sub(r"[^A-Z0-9]", "", part)
        # "M. D." is one credential; "MD PHD" (no comma) is two.
        if len(words) > 1 and all(len(re.sub(r"[^A-Z0-9]", "", w)) > 1 for w in words):
            tokens.extend(re.sub(r"[^A-Z0-9]", "", w) for w in words)
        elif joined:
            tokens.append(joined)
    return list(dict.fromkeys(t for t in tokens if t))


def credential_provider_types(text: str) -> list[str]:
    """Roster provider types the NPPES credential text names, in its order."""
    return list(
        dict.fromkeys(CREDENTIAL_TYPES[t] for t in credential_tokens(text) if t in CREDENTIAL_TYPES)
    )


def norm_street(value: str) -> str:
    text = _ascii(value).upper().replace("#", " # ")
    text = re.sub(r"[^A-Z0-9# ]", " ", text)
    words = []
    for word in text.split():
        word = _STREET_WORDS.get(word, word)
        words.append("#" if word in _UNIT_WORDS else word)
    return " ".join(words)


def norm_license(value: str) -> str:
    """'2017-01132' -> '201701132'; 'a-0012345' -> 'A0012345'; '0043634' -> '43634'."""
    return license_key(value)


def value_hash(field: str, key: Any) -> str:
    canonical = json.dumps([field, key], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class RosterSide:
    """The roster values compared (a provider and its state licenses)."""

    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    suffix: str = ""
    provider_type: str = ""
    primary_taxonomy: str = ""
    taxonomy_codes: tuple[str, ...] = ()
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    status: str = ""
    licenses: tuple[tuple[str, str], ...] = ()  # (state, number)
    # The organization's authorized official as last acknowledged (NppesCheck), or None.
    authorized_official: dict | None = None

    @classmethod
    def of(cls, provider, licenses=(), authorized_official=None) -> RosterSide:
        return cls(
            first_name=provider.first_name,
            middle_name=provider.middle_name,
            last_name=provider.last_name,
            suffix=provider.suffix,
            provider_type=provider.provider_type,
            primary_taxonomy=provider.primary_taxonomy_id or "",
            taxonomy_codes=tuple(provider.taxonomy_codes or ()),
            address_line1=provider.address_line1,
            address_line2=provider.address_line2,
            city=provider.city,
            state=provider.state,
            postal_code=provider.postal_code,
            status=provider.status,
            licenses=tuple((s or "", n or "") for s, n in licenses),
            authorized_official=authorized_official or None,
        )


@dataclass(frozen=True)
class Difference:
    field: str
    our_value: Any
    nppes_value: Any
    severity: str
    value_hash: str


def _name(ours: RosterSide, rec: NppesRecord) -> Difference | None:
    our_value = {
        "first": ours.first_name,
        "middle": ours.middle_name,
        "last": ours.last_name,
        "suffix": ours.suffix,
    }
    if rec.is_organization:
        key = ["organization", norm_name(rec.organization_name)]
        return Difference(
            "name",
            our_value,
            {"organization": rec.organization_name},
            "high",
            value_hash("name", key),
        )
    same = (
        norm_name(ours.first_name) == norm_name(rec.first_name)
        and norm_name(ours.last_name) == norm_name(rec.last_name)
        and _compatible(ours.middle_name, rec.middle_name)
        and _compatible(ours.suffix, rec.name_suffix)
    )
    if same:
        return None
    theirs = {
        "first": rec.first_name,
        "middle": rec.middle_name,
        "last": rec.last_name,
        "suffix": rec.name_suffix,
    }
    key = [norm_name(theirs[k]) for k in ("first", "middle", "last", "suffix")]
    return Difference("name", our_value, theirs, SEVERITY["name"], value_hash("name", key))


def _credential(ours: RosterSide, rec: NppesRecord) -> Difference | None:
    if rec.is_organization or not rec.credential:
        return None
    tokens = credential_tokens(rec.credential)
    ours_type = (ours.provider_type or "").upper()
    if ours_type in credential_provider_types(rec.credential) or ours_type in tokens:
        return None
    return Difference(
        "credential_text",
        ours.provider_type,
        rec.credential,
        SEVERITY["credential_text"],
        value_hash("credential_text", sorted(tokens)),
    )


def _taxonomies(ours: RosterSide, rec: NppesRecord) -> list[Difference]:
    out = []
    nppes_primary = rec.primary_taxonomy.code if rec.primary_taxonomy else ""
    if nppes_primary and nppes_primary != ours.primary_taxonomy:
        out.append(
            Difference(
                "primary_taxonomy",
                ours.primary_taxonomy or None,
                nppes_primary,
                SEVERITY["primary_taxonomy"],
                value_hash("primary_taxonomy", nppes_primary),
            )
        )
    if rec.taxonomy_codes:
        primaries = {ours.primary_taxonomy, nppes_primary}
        our_rest = sorted(set(ours.taxonomy_codes) - primaries)
        their_rest = sorted(set(rec.taxonomy_codes) - primaries)
        if our_rest != their_rest:
            out.append(
                Difference(
                    "secondary_taxonomies",
                    our_rest,
                    their_rest,
                    SEVERITY["secondary_taxonomies"],
                    value_hash("secondary_taxonomies", sorted(rec.secondary_codes)),
                )
            )
    return out


def address_key(line1: str, line2: str, city: str, state: str, postal: str) -> list[str]:
    return [
        norm_street(f"{line1} {line2}"),
        norm_name(city),
        (state or "").upper(),
        postal_digits(postal)[:5],
    ]


def _address(ours: RosterSide, rec: NppesRecord) -> Difference | None:
    loc = rec.location
    if loc.is_empty:
        return None
    their_key = address_key(loc.line1, loc.line2, loc.city, loc.state, loc.postal_code)
    our_key = address_key(
        ours.address_line1, ours.address_line2, ours.city, ours.state, ours.postal_code
    )
    if their_key == our_key:
        return None
    return Difference(
        "practice_address",
        {
            "line1": ours.address_line1,
            "line2": ours.address_line2,
            "city": ours.city,
            "state": ours.state,
            "zip": ours.postal_code,
        },
        {
            "line1": loc.line1,
            "line2": loc.line2,
            "city": loc.city,
            "state": loc.state,
            "zip": format_postal(loc.postal_code),
        },
        SEVERITY["practice_address"],
        value_hash("practice_address", their_key),
    )


def _licenses(ours: RosterSide, rec: NppesRecord) -> Difference | None:
    theirs = {((lic.state or "").upper(), norm_license(lic.number)): lic for lic in rec.licenses}
    if not theirs:
        return None
    mine = {((s or "").upper(), norm_license(n)) for s, n in ours.licenses if n}
    if set(theirs) <= mine:
        return None
    return Difference(
        "licenses",
        sorted(
            ({"state": (s or "").upper(), "number": n} for s, n in ours.licenses if n),
            key=lambda d: (d["state"], d["number"]),
        ),
        sorted(
            ({"state": lic.state, "number": lic.number} for lic in theirs.values()),
            key=lambda d: (d["state"], d["number"]),
        ),
        SEVERITY["licenses"],
        value_hash("licenses", sorted(theirs)),
    )


def _status(ours: RosterSide, rec: NppesRecord) -> Difference | None:
    # A deactivated NPI is a problem for a provider the roster still counts on.
    if not rec.deactivated or ours.status in INACTIVE_STATUSES:
        return None
    theirs = {
        "status": rec.status,
        "deactivated_on": rec.deactivation_date.isoformat() if rec.deactivation_date else None,
        "reason": rec.deactivation_reason,
    }
    return Difference(
        "status",
        {"status": ours.status},
        theirs,
        SEVERITY["status"],
        value_hash("status", [theirs["status"], theirs["deactivated_on"]]),
    )


def official_key(official: dict | None) -> list[str]:
    """Who the official is: first and last name, normalized (title and phone left out)."""
    official = official or {}
    return [norm_name(official.get("first_name", "")), norm_name(official.get("last_name", ""))]


def _authorized_official(ours: RosterSide, rec: NppesRecord) -> Difference | None:
    if not rec.is_organization or rec.authorized_official is None:
        return None
    if not ours.authorized_official:  # first sight: nothing acknowledged to compare with
        return None
    theirs = asdict(rec.authorized_official)
    if official_key(ours.authorized_official) == official_key(theirs):
        return None
    return Difference(
        "authorized_official",
        ours.authorized_official,
        theirs,
        SEVERITY["authorized_official"],
        value_hash("authorized_official", official_key(theirs)),
    )


def compare(ours: RosterSide, record: NppesRecord) -> list[Difference]:
    """Every difference between the roster and the NPPES record, most severe first."""
    found = [
        _status(ours, record),
        _name(ours, record),
        _credential(ours, record),
        *_taxonomies(ours, record),
        _address(ours, record),
        _licenses(ours, record),
        _authorized_official(ours, record),
    ]
    return [d for d in found if d is not None]


# --- presentation: what differs, token by token ---------------------------------------------


def _tokens_marked(text: str, other: str) -> list[tuple[str, bool]]:
    """Words of `text`, each flagged when `other` does not contain it (normalized)."""
    others = set(norm_street(other).split()) | set(norm_name(other).split())
    out = []
    for word in text.split():
        key_a, key_b = norm_street(word), norm_name(word)
        same = (key_a and key_a in others) or (key_b and key_b in others) or not (key_a or key_b)
        out.append((word, not same))
    return out


def text_of(field: str, value: Any, *, labels: dict | None = None) -> list[str]:
    """A value as display items: one item for text fields, one per element for lists."""
    labels = labels or {}
    if value in (None, "", [], {}):
        return []
    if field == "name":
        if "organization" in value:
            return [f"{value['organization']} (organization NPI)"]
        name = " ".join(
            p for p in (value.get("first"), value.get("middle"), value.get("last")) if p
        )
        name = f"{name}, {value['suffix']}" if value.get("suffix") else name
        return [name] if name else []
    if field == "credential_text":
        return [str(value)]
    if field == "primary_taxonomy":
        return [f"{value} {labels.get(value, '')}".strip()]
    if field == "secondary_taxonomies":
        return [f"{c} {labels.get(c, '')}".strip() for c in value]
    if field == "practice_address":
        street = ", ".join(p for p in (value.get("line1"), value.get("line2")) if p)
        place = " ".join(p for p in (value.get("state"), value.get("zip")) if p)
        city = ", ".join(p for p in (value.get("city"), place) if p)
        text = ", ".join(p for p in (street, city) if p)
        return [text] if text else []
    if field == "licenses":
        return [f"{d['state'] or '—'} {d['number']}" for d in value]
    if field == "authorized_official":
        return [official_text(value)]
    if field == "status":
        if "deactivated_on" not in value:  # our side: the roster's provider status
            return [f"{str(value.get('status', '')).capitalize()} on the roster"]
        when, reason = value.get("deactivated_on"), value.get("reason")
        text = f"NPI deactivated{f' {when}' if when else ''} (status {value.get('status')})"
        return [f"{text}, reason code {reason}" if reason else text]
    return [json.dumps(value, default=str)]


def official_text(value: dict) -> str:
    """'TIMOTHY GORDON BARTON, CRNA (MANAGING MEMBER)'."""
    name = " ".join(
        p
        for p in (value.get("name_prefix"), value.get("first_name"), value.get("middle_name"))
        if p
    )
    name = " ".join(p for p in (name, value.get("last_name")) if p)
    for extra in (value.get("name_suffix"), value.get("credential")):
        if extra:
            name = f"{name}, {extra}"
    return f"{name} ({value['title']})" if value.get("title") else name


def _item_key(field: str, item: Any) -> str:
    if field == "licenses":
        return f"{(item.get('state') or '').upper()}:{norm_license(item.get('number', ''))}"
    return str(item)


def marked_pair(field: str, ours: Any, theirs: Any, *, labels: dict | None = None) -> dict:
    """Both sides as items of (words with a changed flag), for side-by-side highlighting.

    List fields mark whole items missing on the other side; text fields mark single words.
    """
    if field == "status":  # a state, not words: each side is one changed item
        return {
            "ours": [[(i, True)] for i in text_of(field, ours, labels=labels)],
            "nppes": [[(i, True)] for i in text_of(field, theirs, labels=labels)],
        }
    if field in ("secondary_taxonomies", "licenses"):
        ours, theirs = ours or [], theirs or []
        our_keys = {_item_key(field, i) for i in ours}
        their_keys = {_item_key(field, i) for i in theirs}

        def side(items, others):
            return [
                [(text_of(field, [i], labels=labels)[0], _item_key(field, i) not in others)]
                for i in items
            ]

        return {"ours": side(ours, their_keys), "nppes": side(theirs, our_keys)}
    our_items = text_of(field, ours, labels=labels)
    their_items = text_of(field, theirs, labels=labels)
    our_text, their_text = " ".join(our_items), " ".join(their_items)
    return {
        "ours": [_tokens_marked(i, their_text) for i in our_items],
        "nppes": [_tokens_marked(i, our_text) for i in their_items],
    }
