"""Reader for the SAM.gov Exclusions API v4, for an on-demand check of one provider.

    GET {SAM_API_BASE_URL}/entity-information/v4/exclusions?api_key=KEY&npi=...&page=0&size=10

GSA's answer (open.gsa.gov/api/exclusions-api; shared/data/sam/api_v4_individual_example.json):
`{"totalRecords": N, "excludedEntity": [{"exclusionDetails": {classificationType,
exclusionType, exclusionProgram, excludingAgencyCode, excludingAgencyName},
"exclusionIdentification": {ueiSAM, cageCode, npi, prefix, firstName, middleName, lastName,
suffix, entityName}, "exclusionActions": {"listOfActions": [{createDate, updateDate,
activateDate, terminationDate, terminationType, recordStatus}]}, "exclusionPrimaryAddress":
{...}, ...}], "links": {"selfLink", "nextLink"}}`, ten records a page at most, dates
MM-DD-YYYY. Older answers name `exclusionAddress` and `name` instead of
`exclusionPrimaryAddress` and `entityName`; both are read.

Paging follows `links.nextLink` when the answer gives one (only to the configured host, and
with our key put back: GSA's links carry `api_key=REPLACE_WITH_API_KEY`), else asks for the
next page while fewer than `totalRecords` have come; at most SAM_API_MAX_PAGES pages (a
personal key allows few requests a day), after which the search says it was cut short.

Short timeouts, no redirects, no retries (a person pressed a button: they can press it
again), and every failure is a `SamApiError` with a message fit for that person. The API key
travels as the `api_key` query parameter, as GSA documents; it never reaches a log line, an
error message or the audit log: urllib3's request log line is redacted by a filter
installed here, and messages are built from our own words, never from an exception's text
(requests puts the full URL in it).
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from urllib.parse import parse_qsl, urlsplit

import requests
from django.conf import settings

API_PATH = "/entity-information/v4/exclusions"
PAGE_SIZE = 10  # the API's maximum
MAX_ANSWER_BYTES = 2 * 1024 * 1024  # a page of ten records is ~30 KB; more is not an answer
USER_AGENT = "CredEx/1.0 (credentialing; SAM.gov exclusions check)"
_KEY_IN_TEXT = re.compile(r"(api_key=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str, key: str | None = None) -> str:
    """The text with any api_key=... value (and the configured key itself) masked."""
    text = _KEY_IN_TEXT.sub(r"\1***", str(text))
    key = settings.SAM_API_KEY if key is None else key
    return text.replace(key, "***") if key else text


class _RedactApiKey(logging.Filter):
    """urllib3 logs every request's URL (query string included) at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "api_key" in record.msg.lower():
            record.msg = redact(record.msg)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        return True


_FILTER = _RedactApiKey()
for _name in ("urllib3.connectionpool", "urllib3.util.retry", "requests"):
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _RedactApiKey) for f in _logger.filters):
        _logger.addFilter(_FILTER)


class SamApiError(Exception):
    """The API could not answer. `kind`: not_configured, rate_limited, refused, http,
    timeout, network, malformed."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.http_status = http_status
        self.retry_after = retry_after

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "message": self.message,
            "http_status": self.http_status,
            "retry_after_seconds": self.retry_after,
        }


@dataclass
class SamExclusion:
    """One excludedEntity, flattened (values as GSA gives them, dates parsed)."""

    classification: str = ""
    exclusion_type: str = ""
    exclusion_program: str = ""
    agency_code: str = ""
    agency_name: str = ""
    uei: str = ""
    cage: str = ""
    npi: str = ""
    prefix: str = ""
    first: str = ""
    middle: str = ""
    last: str = ""
    suffix: str = ""
    entity_name: str = ""
    activate_date: date | None = None
    termination_date: date | None = None
    termination_indefinite: bool = False
    record_status: str = ""
    create_date: date | None = None
    update_date: date | None = None
    city: str = ""
    state: str = ""
    country: str = ""

    @property
    def identity(self) -> tuple:
        return (
            self.classification,
            self.entity_name,
            self.first,
            self.last,
            self.npi,
            self.uei,
            self.activate_date,
            self.agency_code,
            self.exclusion_type,
        )

    def is_active(self, today: date) -> bool:
        """Whether the exclusion is in force on `today` (record status and dates)."""
        if self.record_status and self.record_status.lower() != "active":
            return False
        if self.termination_date and not self.termination_indefinite:
            return self.termination_date >= today
        return True

    def as_json(self) -> dict:
        out = asdict(self)
        for name in ("activate_date", "termination_date", "create_date", "update_date"):
            out[name] = out[name].isoformat() if out[name] else None
        return out


@dataclass
class SamSearch:
    params: dict  # what was asked (never the key)
    total: int = 0  # totalRecords as the API counts them
    records: list[SamExclusion] = field(default_factory=list)
    pages: int = 0
    truncated: bool = False  # more than SAM_API_MAX_PAGES pages: not all records were read
    elapsed_ms: int = 0

    def summary(self) -> dict:
        return {
            "params": self.params,
            "total": self.total,
            "read": len(self.records),
            "pages": self.pages,
            "truncated": self.truncated,
            "elapsed_ms": self.elapsed_ms,
        }


# --- parsing ------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return str(value).strip()


def _date(value) -> date | None:
    text = _text(value)
    if not text:
        return None
    for pattern in ("%m-%d-%Y", "%m/%d/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date")


def _section(entity: dict, *names: str) -> dict:
    for name in names:
        value = entity.get(name)
        if isinstance(value, dict):
            return value
        if value is not None:
            raise ValueError(f"{name} is not an object")
    return {}


def _action(entity: dict) -> dict:
    actions = _section(entity, "exclusionActions").get("listOfActions") or []
    if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
        raise ValueError("exclusionActions.listOfActions is not a list of objects")
    if not actions:
        return {}
    active = [a for a in actions if _text(a.get("recordStatus")).lower() == "active"]
    return (active or actions)[0]


def parse_entity(entity) -> SamExclusion:
    """One excludedEntity; a ValueError names what is wrong with it."""
    if not isinstance(entity, dict):
        raise ValueError("an excludedEntity is not an object")
    details = _section(entity, "exclusionDetails")
    ident = _section(entity, "exclusionIdentification")
    address = _section(entity, "exclusionPrimaryAddress", "exclusionAddress")
    action = _action(entity)
    end_text = _text(action.get("terminationDate"))
    indefinite = (
        end_text.lower() == "indefinite"
        or _text(action.get("terminationType")).lower() == "indefinite"
    )
    return SamExclusion(
        classification=_text(details.get("classificationType")),
        exclusion_type=_text(details.get("exclusionType")),
        exclusion_program=_text(details.get("exclusionProgram")),
        agency_code=_text(details.get("excludingAgencyCode")),
        agency_name=_text(details.get("excludingAgencyName")),
        uei=_text(ident.get("ueiSAM")),
        cage=_text(ident.get("cageCode")),
        npi=_text(ident.get("npi")),
        prefix=_text(ident.get("prefix")),
        first=_text(ident.get("firstName")),
        middle=_text(ident.get("middleName")),
        last=_text(ident.get("lastName")),
        suffix=_text(ident.get("suffix")),
        entity_name=_text(ident.get("entityName") or ident.get("name")),
        activate_date=_date(action.get("activateDate")),
        termination_date=None if end_text.lower() == "indefinite" else _date(end_text),
        termination_indefinite=indefinite,
        record_status=_text(action.get("recordStatus")),
        create_date=_date(action.get("createDate")),
        update_date=_date(action.get("updateDate")),
        city=_text(address.get("city")),
        state=_text(address.get("stateOrProvinceCode")),
        country=_text(address.get("countryCode")),
    )


def parse_page(payload) -> tuple[int, list[SamExclusion], str]:
    """(totalRecords, records, nextLink or "") of one answer; ValueError when malformed."""
    if not isinstance(payload, dict):
        raise ValueError("the answer is not a JSON object")
    total = payload.get("totalRecords", 0)
    if isinstance(total, str) and total.isdigit():
        total = int(total)
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise ValueError("totalRecords is not a number")
    entities = payload.get("excludedEntity") or []
    if not isinstance(entities, list):
        raise ValueError("excludedEntity is not a list")
    records = [parse_entity(e) for e in entities]
    links = payload.get("links") or {}
    next_link = links.get("nextLink") if isinstance(links, dict) else None
    return total, records, next_link if isinstance(next_link, str) else ""


# --- the client ---------------------------------------------------------------------------


class SamApiClient:
    """Search the v4 exclusions endpoint; knobs default to the SAM_API_* settings."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_pages: int | None = None,
    ):
        self.base_url = (base_url or settings.SAM_API_BASE_URL).rstrip("/")
        self.api_key = settings.SAM_API_KEY if api_key is None else api_key
        self.timeout = float(timeout or settings.SAM_API_TIMEOUT_SECONDS)
        self.max_pages = max(1, int(max_pages or settings.SAM_API_MAX_PAGES))
        self.session = requests.Session()
        # GSA answers application/hal+json; an explicit "Accept: application/json" is refused
        # with 406 by the live API.
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "*/*"})

    @property
    def configured(self) -> bool:
        return bool(self.api_key and self.base_url)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> SamApiClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def search(self, **params) -> SamSearch:
        """Every record the API has for these parameters (bounded pages); raises SamApiError."""
        if not self.configured:
            raise SamApiError(
                "not_configured",
                "The SAM.gov API is not configured (SAM_API_KEY is empty).",
            )
        asked = {k: str(v) for k, v in params.items() if v not in (None, "")}
        search = SamSearch(params=dict(asked))
        started = time.monotonic()
        query = {**asked, "page": "0", "size": str(PAGE_SIZE)}
        seen: set[tuple] = set()
        while True:
            payload = self._get(query)
            search.pages += 1
            try:
                total, records, next_link = parse_page(payload)
            except ValueError as exc:
                raise SamApiError(
                    "malformed", f"SAM.gov sent an answer that cannot be read ({exc})."
                )
            search.total = max(search.total, total)
            for record in records:
                if record.identity not in seen:  # pages can overlap while SAM updates
                    seen.add(record.identity)
                    search.records.append(record)
            following = self._next_query(query, next_link, len(records), total)
            if following is None:
                break
            if search.pages >= self.max_pages:
                search.truncated = True
                break
            query = following
        search.elapsed_ms = int((time.monotonic() - started) * 1000)
        return search

    def _next_query(self, query: dict, next_link: str, got: int, total: int) -> dict | None:
        if next_link:
            parts = urlsplit(next_link)
            base = urlsplit(self.base_url)
            if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
                raise SamApiError(
                    "malformed", "SAM.gov's next-page link points at another host; not followed."
                )
            following = {k: v for k, v in parse_qsl(parts.query) if k.lower() != "api_key"}
            if following.get("page") == query.get("page"):
                return None  # a link to the same page: nothing more to read
            return following
        page = int(query.get("page", "0"))
        if got == 0 or (page + 1) * PAGE_SIZE >= total:
            return None
        return {**query, "page": str(page + 1)}

    def _get(self, query: dict):
        url = f"{self.base_url}{API_PATH}"
        try:
            response = self.session.get(
                url,
                params={"api_key": self.api_key, **query},
                timeout=(min(self.timeout, 5.0), self.timeout),
                allow_redirects=False,
                stream=True,
            )
            if response.status_code < 300:
                body = _read_limited(response)
            else:
                body = b""
                response.close()
        except requests.Timeout:
            raise SamApiError(
                "timeout", f"SAM.gov did not answer within {self.timeout:g} seconds; try again."
            )
        except requests.RequestException as exc:
            raise SamApiError(
                "network", f"Could not reach SAM.gov ({type(exc).__name__}); try again later."
            )
        status = response.status_code
        if status == 429:
            retry = _retry_after(response.headers.get("Retry-After"))
            wait = f" Try again in {retry} seconds." if retry else " Try again later."
            raise SamApiError(
                "rate_limited",
                "SAM.gov refused the request: this API key's request limit is reached." + wait,
                http_status=status,
                retry_after=retry,
            )
        if status in (401, 403):
            raise SamApiError(
                "refused",
                f"SAM.gov refused the API key (HTTP {status}); check SAM_API_KEY.",
                http_status=status,
            )
        if status >= 300:
            raise SamApiError(
                "http", f"SAM.gov answered HTTP {status}; try again later.", http_status=status
            )
        if body is None:
            raise SamApiError(
                "malformed", f"SAM.gov sent more than {MAX_ANSWER_BYTES // 1024} KB for one page."
            )
        try:
            return json.loads(body)
        except ValueError:
            raise SamApiError("malformed", "SAM.gov sent an answer that is not JSON.")


def _read_limited(response) -> bytes | None:
    """The body, or None when it is larger than MAX_ANSWER_BYTES (the rest is not read)."""
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                return None
            chunks.append(chunk)
    finally:
        response.close()
    return b"".join(chunks)


def _retry_after(value: str | None) -> int | None:
    try:
        seconds = int(float(value)) if value else None
    except ValueError:
        return None
    return max(0, min(seconds, 86400)) if seconds is not None else None


def safe_params(params: dict) -> dict:
    """Request parameters as recorded (never the key)."""
    return {k: redact(str(v)) for k, v in params.items() if k.lower() != "api_key"}


__all__ = [
    "SamApiClient",
    "SamApiError",
    "SamExclusion",
    "SamSearch",
    "parse_entity",
    "parse_page",
    "redact",
    "safe_params",
]
