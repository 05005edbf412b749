"""NPI Registry API v2.1 answers -> plain, normalized records.

The format drifted over the years and every variant is still served somewhere (see
../shared/data/README.md): `number` and the epochs were integers (epochs in seconds) in 2019
and are strings in milliseconds since 2022; `basic.gender` became `basic.sex`; an empty value
may be a missing key, "", null or "--"; the same taxonomy code can repeat with different state
licenses; postal codes are 5 or 9 digits without a hyphen. Errors come with HTTP 200 and
`{"Errors": [...]}`. Nothing here touches the network or the database.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

EMPTY_MARKERS = {"", "--", "-", "N/A", "NONE", "NULL"}
# Epochs above this are milliseconds (10^11 s is the year 5138; 10^11 ms is 1973).
_MS_THRESHOLD = 100_000_000_000


def clean(value) -> str:
    """A text value with every flavour of empty (missing, "", null, "--") as ""."""
    if value is None:
        return ""
    text = " ".join(str(value).split())
    return "" if text.upper() in EMPTY_MARKERS else text


def parse_epoch(value) -> datetime | None:
    """An epoch as int seconds (2019) or a string of milliseconds (2022+) -> aware UTC."""
    text = clean(value)
    if not text:
        return None
    try:
        number = int(float(text))
    except ValueError:
        return None
    if number > _MS_THRESHOLD:
        number //= 1000
    return datetime.fromtimestamp(number, tz=UTC)


def parse_date(value) -> date | None:
    """'2011-04-05' (the API) or '04/05/2011' (the bulk file's style) -> date."""
    text = clean(value)
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_npi(value) -> str:
    """`number` as an int (2019) or a string (2022+) -> 10-digit string."""
    text = clean(value)
    if text.endswith(".0"):
        text = text[:-2]
    return text.zfill(10) if text.isdigit() else text


def postal_digits(value) -> str:
    """Digits only: '288014811', '28801-4811' and '28801 4811' all give '288014811'."""
    return "".join(ch for ch in clean(value) if ch.isdigit())


def format_postal(value) -> str:
    """'288014811' -> '28801-4811'; '55767' stays."""
    digits = postal_digits(value)
    return f"{digits[:5]}-{digits[5:]}" if len(digits) == 9 else digits


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    return clean(value).upper() in {"TRUE", "Y", "YES", "1"}


@dataclass(frozen=True)
class Address:
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""  # digits only, 5 or 9
    country: str = ""
    phone: str = ""
    purpose: str = ""  # LOCATION / MAILING / "" for practiceLocations

    @property
    def is_empty(self) -> bool:
        return not (self.line1 or self.city or self.state or self.postal_code)


@dataclass(frozen=True)
class Taxonomy:
    code: str
    desc: str = ""
    primary: bool = False
    state: str = ""
    license: str = ""
    group: str = ""


@dataclass(frozen=True)
class License:
    state: str
    number: str
    taxonomy: str = ""


def license_key(number: str) -> str:
    """'SC002712-L', 'sc002712l' and 'SC 002712.L' are one license: upper case, letters and
    digits only, leading zeros dropped ('0043634' and '43634' are the same number)."""
    text = "".join(ch for ch in unicodedata.normalize("NFKD", number or "") if ch.isalnum())
    text = text.encode("ascii", "ignore").decode().upper()
    return text.lstrip("0") or text


@dataclass(frozen=True)
class Endpoint:
    """An electronic address NPPES lists for the NPI (Direct messaging, FHIR, a web site...)."""

    type: str  # endpointType: DIRECT, FHIR, CONNECT, SOAP, REST, WEB, OTHERS...
    type_description: str = ""
    endpoint: str = ""  # the address or URL
    use: str = ""  # HIE, DIRECT, ...
    use_description: str = ""
    content_type: str = ""
    content_description: str = ""
    affiliation: bool = False
    affiliation_name: str = ""
    city: str = ""
    state: str = ""


@dataclass(frozen=True)
class AuthorizedOfficial:
    """The person who signs for an organization (NPI-2) in NPPES."""

    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    name_prefix: str = ""
    name_suffix: str = ""
    credential: str = ""
    title: str = ""
    phone: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.first_name or self.last_name)


@dataclass
class NppesRecord:
    npi: str
    enumeration_type: str  # NPI-1 individual, NPI-2 organization
    status: str = "A"
    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    name_prefix: str = ""
    name_suffix: str = ""
    credential: str = ""
    sex: str = ""
    organization_name: str = ""
    sole_proprietor: str = ""
    enumeration_date: date | None = None
    last_updated: date | None = None
    certification_date: date | None = None  # the provider last certified the record as true
    deactivation_date: date | None = None
    deactivation_reason: str = ""
    reactivation_date: date | None = None
    created_at: datetime | None = None
    last_updated_at: datetime | None = None
    taxonomies: list[Taxonomy] = field(default_factory=list)
    location: Address = field(default_factory=Address)
    mailing: Address = field(default_factory=Address)
    practice_locations: list[Address] = field(default_factory=list)
    other_names: list[dict] = field(default_factory=list)
    identifiers: list[dict] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    authorized_official: AuthorizedOfficial | None = None  # NPI-2 only

    @property
    def is_organization(self) -> bool:
        return self.enumeration_type == "NPI-2"

    @property
    def deactivated(self) -> bool:
        """Status other than "A", or a deactivation not followed by a reactivation."""
        if self.status and self.status.upper() != "A":
            return True
        reactivated = bool(
            self.reactivation_date
            and self.deactivation_date
            and self.reactivation_date >= self.deactivation_date
        )
        return bool(self.deactivation_date) and not reactivated

    @property
    def primary_taxonomy(self) -> Taxonomy | None:
        for taxonomy in self.taxonomies:
            if taxonomy.primary:
                return taxonomy
        return self.taxonomies[0] if len(self.taxonomies) == 1 else None

    @property
    def taxonomy_codes(self) -> list[str]:
        """Distinct codes in NPPES order (a code repeats once per state license)."""
        return list(dict.fromkeys(t.code for t in self.taxonomies if t.code))

    @property
    def secondary_codes(self) -> list[str]:
        primary = self.primary_taxonomy.code if self.primary_taxonomy else ""
        return [c for c in self.taxonomy_codes if c != primary]

    @property
    def licenses(self) -> list[License]:
        """(state, number) pairs listed on taxonomies, de-duplicated. Self-reported.

        The same license repeats once per taxonomy and is often typed differently each time
        ('SC002712-L', 'SC002712-l', 'SC002712L'): one license per state and `license_key`,
        shown as first written."""
        seen: dict[tuple[str, str], License] = {}
        for t in self.taxonomies:
            if t.license:
                key = (t.state, license_key(t.license))
                seen.setdefault(key, License(t.state, t.license, t.code))
        return list(seen.values())

    def as_json(self) -> dict:
        """A JSON-safe dict (dates as ISO strings) for storage and the API."""

        def convert(value):
            if isinstance(value, datetime | date):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: convert(v) for k, v in value.items()}
            if isinstance(value, list):
                return [convert(v) for v in value]
            return value

        data = convert(asdict(self))
        data["deactivated"] = self.deactivated
        data["is_organization"] = self.is_organization
        data["licenses"] = [asdict(lic) for lic in self.licenses]
        return data


@dataclass(frozen=True)
class ApiError:
    """One entry of the API's `Errors` list."""

    number: str
    description: str
    field: str

    def as_json(self) -> dict:
        return {"number": self.number, "description": self.description, "field": self.field}


@dataclass
class ParsedAnswer:
    kind: str  # "found" | "not_found" | "errors"
    record: NppesRecord | None = None
    errors: list[ApiError] = field(default_factory=list)
    result_count: int = 0


class MalformedAnswer(ValueError):
    """The body is JSON but not an NPI Registry answer we can read."""


def _address(raw: dict, purpose: str = "") -> Address:
    return Address(
        line1=clean(raw.get("address_1")),
        line2=clean(raw.get("address_2")),
        city=clean(raw.get("city")),
        state=clean(raw.get("state")).upper(),
        postal_code=postal_digits(raw.get("postal_code")),
        country=clean(raw.get("country_code")),
        phone=clean(raw.get("telephone_number")),
        purpose=purpose or clean(raw.get("address_purpose")).upper(),
    )


def _endpoints(raw) -> list[Endpoint]:
    out = []
    for e in raw or []:
        if not isinstance(e, dict) or not clean(e.get("endpoint")):
            continue
        out.append(
            Endpoint(
                type=clean(e.get("endpointType")).upper(),
                type_description=clean(e.get("endpointTypeDescription")),
                endpoint=clean(e.get("endpoint")),
                use=clean(e.get("use")).upper(),
                use_description=clean(e.get("useDescription")),
                content_type=clean(e.get("contentType")).upper(),
                content_description=clean(e.get("contentTypeDescription"))
                or clean(e.get("contentOtherDescription")),
                affiliation=_bool(e.get("affiliation")),
                affiliation_name=clean(e.get("affiliationName")),
                city=clean(e.get("city")),
                state=clean(e.get("state")).upper(),
            )
        )
    return out


def _authorized_official(basic: dict) -> AuthorizedOfficial | None:
    def get(name: str) -> str:
        return clean(basic.get(f"authorized_official_{name}"))

    official = AuthorizedOfficial(
        first_name=get("first_name"),
        middle_name=get("middle_name"),
        last_name=get("last_name"),
        name_prefix=get("name_prefix"),
        name_suffix=get("name_suffix"),
        credential=get("credential"),
        title=get("title_or_position"),
        phone=get("telephone_number"),
    )
    return None if official.is_empty else official


def parse_result(raw: dict) -> NppesRecord:
    """One element of `results`."""
    if not isinstance(raw, dict):
        raise MalformedAnswer("A result is not an object.")
    basic = raw.get("basic") or {}
    npi = parse_npi(raw.get("number"))
    if not npi:
        raise MalformedAnswer("A result has no NPI number.")
    addresses = [a for a in raw.get("addresses") or [] if isinstance(a, dict)]
    by_purpose = {clean(a.get("address_purpose")).upper(): a for a in addresses}
    taxonomies = [
        Taxonomy(
            code=clean(t.get("code")).upper(),
            desc=clean(t.get("desc")),
            primary=_bool(t.get("primary")),
            state=clean(t.get("state")).upper(),
            license=clean(t.get("license")),
            group=clean(t.get("taxonomy_group")),
        )
        for t in raw.get("taxonomies") or []
        if isinstance(t, dict) and clean(t.get("code"))
    ]
    enumeration_type = clean(raw.get("enumeration_type")).upper()
    if not enumeration_type:
        enumeration_type = "NPI-2" if clean(basic.get("organization_name")) else "NPI-1"
    return NppesRecord(
        npi=npi,
        enumeration_type=enumeration_type,
        status=clean(basic.get("status")).upper() or "A",
        first_name=clean(basic.get("first_name")),
        middle_name=clean(basic.get("middle_name")),
        last_name=clean(basic.get("last_name")),
        name_prefix=clean(basic.get("name_prefix")),
        name_suffix=clean(basic.get("name_suffix")),
        credential=clean(basic.get("credential")),
        # `gender` until 2022, `sex` since.
        sex=clean(basic.get("sex")) or clean(basic.get("gender")),
        organization_name=clean(basic.get("organization_name")),
        sole_proprietor=clean(basic.get("sole_proprietor")),
        enumeration_date=parse_date(basic.get("enumeration_date")),
        last_updated=parse_date(basic.get("last_updated")),
        certification_date=parse_date(basic.get("certification_date")),
        deactivation_date=parse_date(basic.get("deactivation_date")),
        deactivation_reason=clean(basic.get("deactivation_reason_code")),
        reactivation_date=parse_date(basic.get("reactivation_date")),
        created_at=parse_epoch(raw.get("created_epoch")),
        last_updated_at=parse_epoch(raw.get("last_updated_epoch")),
        taxonomies=taxonomies,
        location=_address(by_purpose.get("LOCATION", {}), "LOCATION"),
        mailing=_address(by_purpose.get("MAILING", {}), "MAILING"),
        practice_locations=[
            _address(p) for p in raw.get("practiceLocations") or [] if isinstance(p, dict)
        ],
        other_names=[
            {k: clean(v) for k, v in n.items()}
            for n in raw.get("other_names") or []
            if isinstance(n, dict)
        ],
        identifiers=[
            {k: clean(v) for k, v in i.items()}
            for i in raw.get("identifiers") or []
            if isinstance(i, dict)
        ],
        endpoints=_endpoints(raw.get("endpoints")),
        authorized_official=_authorized_official(basic),
    )


def parse_answer(payload, *, npi: str = "") -> ParsedAnswer:
    """A whole answer: found (the result for `npi`), not found, or the API's errors."""
    if not isinstance(payload, dict):
        raise MalformedAnswer("The answer is not a JSON object.")
    if "Errors" in payload:
        errors = [
            ApiError(
                number=clean(e.get("number")),
                description=clean(e.get("description")),
                field=clean(e.get("field")),
            )
            for e in payload.get("Errors") or []
            if isinstance(e, dict)
        ]
        return ParsedAnswer(kind="errors", errors=errors or [ApiError("", "Unspecified", "")])
    if "results" not in payload and "result_count" not in payload:
        raise MalformedAnswer("The answer has neither results nor Errors.")
    results = [r for r in payload.get("results") or [] if r]
    try:
        count = int(payload.get("result_count") or 0)
    except (TypeError, ValueError):
        count = len(results)
    if not results:
        return ParsedAnswer(kind="not_found", result_count=0)
    records = [parse_result(r) for r in results]
    if npi:
        wanted = [r for r in records if r.npi == npi]
        if not wanted:
            return ParsedAnswer(kind="not_found", result_count=count)
        records = wanted
    return ParsedAnswer(kind="found", record=records[0], result_count=count)
