"""Name normalization for exclusion matching: one canonical form on both sides.

The same functions build the keys of the exclusion records (at load time, stored in the
rows) and of the roster's providers (at screening time), so a match is an equality of keys:

- case, punctuation and diacritics are folded (``O'Brien-Núñez`` -> ``OBRIENNUNEZ``);
- name suffixes and credentials (JR, SR, II, III, IV, MD, DO, PHD ...) are dropped;
- a hyphenated or double last name also yields each part (``SMITH-JONES`` matches
  ``SMITH`` and ``JONES``), without particles such as DE, LA, VAN;
- the first name is its first token (``MARY ANN`` -> ``MARY``), so a second given name
  on one side only does not prevent a match;
- business names drop corporate designators (INC, LLC, PC ...) and spacing.

Fuzzy candidates are found in blocks (screening.matching): records that share the start of
a last-name key's Soundex code and the first initial.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Letters that NFKD does not decompose into a base letter plus a mark.
_SPECIAL = str.maketrans(
    {
        "ß": "SS",
        "ẞ": "SS",
        "Æ": "AE",
        "æ": "AE",
        "Œ": "OE",
        "œ": "OE",
        "Ø": "O",
        "ø": "O",
        "Ł": "L",
        "ł": "L",
        "Đ": "D",
        "đ": "D",
        "Ð": "D",
        "ð": "D",
        "Þ": "TH",
        "þ": "TH",
        "ı": "I",
    }
)
_DROP = re.compile(r"['’`´.]")  # O'BRIEN -> OBRIEN, ST. -> ST
_SEPARATORS = re.compile(r"[^A-Z0-9\- ]+")  # anything else separates words
_SPACES = re.compile(r"\s+")

# Generational suffixes, honorifics and credentials seen appended to names.
SUFFIXES = frozenset(
    {
        "JR",
        "SR",
        "II",
        "III",
        "IV",
        "V",
        "VI",
        "2ND",
        "3RD",
        "MD",
        "DO",
        "PHD",
        "DDS",
        "DMD",
        "DPM",
        "DC",
        "OD",
        "RN",
        "LPN",
        "NP",
        "PA",
        "PAC",
        "CRNA",
        "CNM",
        "LCSW",
        "ESQ",
        "MR",
        "MRS",
        "MS",
        "MISS",
        "DR",
        "PROF",
    }
)
# Particles of compound last names: not a last name on their own.
PARTICLES = frozenset({"DE", "DEL", "DELA", "LA", "LE", "LOS", "LAS", "VAN", "VON", "DER", "DA"})
BUSINESS_WORDS = frozenset(
    {
        "INC",
        "INCORPORATED",
        "LLC",
        "LLP",
        "LP",
        "PLLC",
        "PC",
        "PA",
        "CORP",
        "CORPORATION",
        "CO",
        "COMPANY",
        "LTD",
        "LIMITED",
        "THE",
        "DBA",
    }
)


def _plain(value: str) -> bool:
    """One word of ASCII letters: the common case, whose keys need no work."""
    return value.isascii() and value.isalpha()


@lru_cache(maxsize=500_000)
def fold(value: str | None) -> str:
    """Upper case, no diacritics, no punctuation; words separated by single spaces.

    Hyphens are kept (they mark compound last names); callers decide what to do with them.
    """
    if not value:
        return ""
    if _plain(value):
        return value.upper()
    text = value.translate(_SPECIAL)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _DROP.sub("", text.upper())
    text = _SEPARATORS.sub(" ", text)
    text = text.replace(" -", "-").replace("- ", "-").strip(" -")
    return _SPACES.sub(" ", text)


def _words(value: str | None) -> list[str]:
    words = fold(value).replace("-", " - ").split()
    # Drop trailing suffixes (keep at least one real word: "DO" can be a surname).
    while len([w for w in words if w != "-"]) > 1 and words[-1] in SUFFIXES:
        words.pop()
        while words and words[-1] == "-":
            words.pop()
    while len(words) > 1 and words[0] in SUFFIXES:  # "DR JANE"
        words.pop(0)
    return words


def last_name_keys(value: str | None) -> tuple[str, ...]:
    """The joined last name first, then each part of a compound name (no particles)."""
    if value and _plain(value):
        return (value.upper(),)
    return _last_name_keys(value)


@lru_cache(maxsize=200_000)
def _last_name_keys(value: str | None) -> tuple[str, ...]:
    words = _words(value)
    if not words:
        return ()
    joined = "".join(w for w in words if w != "-")
    parts = [w for w in words if w != "-" and w not in PARTICLES and len(w) >= 2]
    keys = [joined, "".join(parts)]  # "DE LA CRUZ" is also filed as "CRUZ"
    if len(parts) > 1:
        keys.extend(parts)
    return tuple(k for k in dict.fromkeys(keys) if k)


def first_name_key(value: str | None) -> str:
    """The first given name (first token after titles), folded."""
    if value and _plain(value):
        return value.upper()
    return _first_name_key(value)


@lru_cache(maxsize=200_000)
def _first_name_key(value: str | None) -> str:
    words = [w for w in _words(value) if w != "-"]
    return words[0] if words else ""


# LEIE publishes BUSNAME cut to 30 characters: a name this long may be the start of a
# longer one, so it is matched as a prefix (screening.matching).
LEIE_BUSNAME_WIDTH = 30
# A truncated name's key shorter than this is too generic to match as a prefix.
MIN_PREFIX_KEY = 12
_AMPERSAND = re.compile(r"\s*&\s*")


def _business_words(value: str | None) -> list[str]:
    # "&" becomes AND before fold() treats it as punctuation: "SMITH & JONES" and LEIE's
    # "SMITH AND JONES" are one name.
    text = _AMPERSAND.sub(" AND ", value) if value and "&" in value else value
    return fold(text).replace("-", " ").split()


@lru_cache(maxsize=200_000)
def business_key(value: str | None) -> str:
    """A business name without designators and spacing: ``ACME HEALTH, L.L.C.`` -> ACMEHEALTH;
    ``SMITH & JONES`` -> SMITHANDJONES."""
    return "".join(w for w in _business_words(value) if w not in BUSINESS_WORDS)


@lru_cache(maxsize=200_000)
def business_prefix_key(value: str | None) -> str:
    """Every word of a business name, designators kept (``SMITH AND JONES MEDICAL SUPPLY, IN``
    -> SMITHANDJONESMEDICALSUPPLYIN): the form a name cut at a fixed width is compared in,
    since the cut may fall inside a designator (``IN`` of ``INC``)."""
    words = _business_words(value)
    while words and words[0] == "THE":
        words.pop(0)
    return "".join(words)


def is_truncated_busname(value: str | None) -> bool:
    """Whether an LEIE BUSNAME fills its published width (and may have been cut)."""
    return bool(value) and len(value) >= LEIE_BUSNAME_WIDTH


# Soundex digit per letter; vowels are "0" (they separate equal codes, then vanish), H and
# W are deleted (they do not separate), and so is anything that is not a letter.
_SOUNDEX = str.maketrans(
    {
        **dict.fromkeys("AEIOUY", "0"),
        **dict.fromkeys("BFPV", "1"),
        **dict.fromkeys("CGJKQSXZ", "2"),
        **dict.fromkeys("DT", "3"),
        "L": "4",
        **dict.fromkeys("MN", "5"),
        "R": "6",
        **dict.fromkeys("HW0123456789 -", None),
    }
)


def soundex(value: str) -> str:
    """American Soundex of a folded word (``ROBERT`` -> R163, ``ASHCRAFT`` -> A261).

    A plain loop rather than a regular expression: it runs for every record when a list's
    index is built (a quarter of a million times).
    """
    if not value:
        return ""
    first = value[0]
    own = first.translate(_SOUNDEX)
    codes = value.translate(_SOUNDEX)
    if own:
        codes = codes[1:]  # the first letter stands for itself
    previous, digits = own, ""
    for code in codes:
        if code != previous:
            previous = code
            if code != "0":
                digits += code
                if len(digits) == 3:
                    break
    return (first + digits + "000")[:4]


@dataclass(frozen=True)
class NameKey:
    """One name of a person as matching keys; `label` says which name it is."""

    first: str
    lasts: tuple[str, ...]
    label: str = "current name"

    @property
    def last(self) -> str:
        return self.lasts[0] if self.lasts else ""


def name_key(first: str | None, last: str | None, *, label: str = "current name") -> NameKey:
    return NameKey(first=first_name_key(first), lasts=last_name_keys(last), label=label)


def split_full_name(value: str) -> tuple[str, str]:
    """("first", "last") of a free-text former name: "Jane Q. Smith" or "Smith, Jane"."""
    value = " ".join(str(value or "").split())
    if "," in value:
        last, _, first = value.partition(",")
        return first.strip(), last.strip()
    words = value.split(" ")
    # Trailing suffixes belong to the last name's side ("Jane Smith Jr").
    while len(words) > 2 and fold(words[-1]) in SUFFIXES:
        words.pop()
    if len(words) == 1:
        return "", words[0]
    # The last word, with the particles before it ("Jane van der Berg"); middle names and
    # initials are not part of the matching keys.
    start = len(words) - 1
    while start > 1 and fold(words[start - 1]) in PARTICLES:
        start -= 1
    return words[0], " ".join(words[start:])


def provider_name_keys(
    *, first_name: str, last_name: str, former_names: list[str] | None = None
) -> list[NameKey]:
    """The provider's current name and each former name as keys (duplicates dropped).

    A former name of one word is a former last name ("Smith" before marriage) and is
    combined with the current first name.
    """
    keys = [name_key(first_name, last_name)]
    for former in former_names or []:
        first, last = split_full_name(former)
        key = name_key(first or first_name, last, label=f"former name “{former}”")
        if key.lasts and key.first:
            keys.append(key)
    seen, out = set(), []
    for key in keys:
        ident = (key.first, key.lasts)
        if ident not in seen and key.first and key.lasts:
            seen.add(ident)
            out.append(key)
    return out


@dataclass(frozen=True)
class BusinessName:
    """One business name of a provider as matching keys; `label` says which name it is."""

    text: str
    label: str
    key: str  # business_key: compared for equality
    prefix: str  # business_prefix_key: a cut LEIE BUSNAME is compared as its start

    @property
    def ampersand(self) -> bool:
        return "&" in self.text


def provider_business_names(
    *,
    legal_name: str = "",
    dba_name: str = "",
    former_names: list[str] | None = None,
    nppes_other_names: list[dict] | None = None,
) -> list[BusinessName]:
    """The business names an organizational provider is screened under (duplicates dropped):
    its legal and DBA names, its former names, and the organization names NPPES lists under
    other names (former names and DBAs). Former names count only for an organization (one
    with a legal or DBA name): a person's former names are matched as person names."""
    named: list[tuple[str, str]] = []
    if legal_name:
        named.append((legal_name, "legal name"))
    if dba_name:
        named.append((dba_name, "DBA name"))
    if legal_name or dba_name:
        named.extend((n, f"former name “{n}”") for n in former_names or [])
    for other in nppes_other_names or []:
        text = str(other.get("organization_name") or "").strip()
        if text:
            kind = str(other.get("type") or "other name").strip()
            named.append((text, f"NPPES {kind.lower()} “{text}”"))
    out, seen = [], set()
    for text, label in named:
        text = " ".join(str(text).split())
        key = business_key(text)
        if key and key not in seen:
            seen.add(key)
            out.append(BusinessName(text, label, key, business_prefix_key(text)))
    return out


def nppes_former_person_names(other_names: list[dict] | None) -> list[str]:
    """ "First Last" of each individual's NPPES other name (type Former Name)."""
    out = []
    for other in other_names or []:
        first = str(other.get("first_name") or "").strip()
        last = str(other.get("last_name") or "").strip()
        if last and "former" in str(other.get("type") or "").lower():
            out.append(f"{first} {last}".strip())
    return out
