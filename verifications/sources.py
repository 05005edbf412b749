"""Where each credential is verified: the primary source for a credential kind, and a starting
table of state medical licensing boards (50 states and DC).

The board table is reference data shipped with the code, not something an organization edits:
names are the boards' own; `lookup_url` is the board's public licence look-up where we know it
(blank where we do not; the coordinator then searches the board's site). `method` is how the
board answers a verification: "online" (a web look-up, print the page as evidence) or "email" /
"fax" (a written request, tracked in the queue with a due date and follow-ups). Every board below
offers an online look-up as far as we know, so all start as "online"; a board that moves to
written-only verification is one line to change here. Any queue row can still "Send request"
by e-mail, fax or mail (education, employers, facilities and carriers usually answer that way).
"""

from __future__ import annotations

from dataclasses import dataclass

from verifications.models import VerificationMethod, VerificationSource


@dataclass(frozen=True)
class Board:
    state: str
    name: str
    method: str = "online"  # "online", "email" or "fax"
    lookup_url: str = ""
    contact: str = ""  # the e-mail address or fax number for written requests

    @property
    def written_only(self) -> bool:
        return self.method in ("email", "fax")


_BOARDS = [
    Board("AL", "Alabama Board of Medical Examiners"),
    Board("AK", "Alaska State Medical Board"),
    Board("AZ", "Arizona Medical Board"),
    Board("AR", "Arkansas State Medical Board"),
    Board("CA", "Medical Board of California", lookup_url="https://search.dca.ca.gov/"),
    Board(
        "CO",
        "Colorado Medical Board",
        lookup_url="https://apps2.colorado.gov/dora/licensing/Lookup/LicenseLookup.aspx",
    ),
    Board(
        "CT",
        "Connecticut Medical Examining Board",
        lookup_url="https://www.elicense.ct.gov/Lookup/LicenseLookup.aspx",
    ),
    Board("DE", "Delaware Board of Medical Licensure and Discipline"),
    Board("DC", "District of Columbia Board of Medicine"),
    Board(
        "FL",
        "Florida Board of Medicine",
        lookup_url="https://mqa-internet.doh.state.fl.us/MQASearchServices/HealthCareProviders",
    ),
    Board("GA", "Georgia Composite Medical Board"),
    Board("HI", "Hawaii Medical Board"),
    Board("ID", "Idaho Board of Medicine"),
    Board("IL", "Illinois Department of Financial and Professional Regulation"),
    Board("IN", "Indiana Medical Licensing Board"),
    Board("IA", "Iowa Board of Medicine"),
    Board("KS", "Kansas State Board of Healing Arts"),
    Board("KY", "Kentucky Board of Medical Licensure"),
    Board("LA", "Louisiana State Board of Medical Examiners"),
    Board("ME", "Maine Board of Licensure in Medicine"),
    Board("MD", "Maryland Board of Physicians"),
    Board("MA", "Massachusetts Board of Registration in Medicine"),
    Board("MI", "Michigan Board of Medicine"),
    Board("MN", "Minnesota Board of Medical Practice"),
    Board("MS", "Mississippi State Board of Medical Licensure"),
    Board("MO", "Missouri State Board of Registration for the Healing Arts"),
    Board("MT", "Montana Board of Medical Examiners"),
    Board("NE", "Nebraska Board of Medicine and Surgery"),
    Board("NV", "Nevada State Board of Medical Examiners"),
    Board("NH", "New Hampshire Board of Medicine"),
    Board("NJ", "New Jersey State Board of Medical Examiners"),
    Board("NM", "New Mexico Medical Board"),
    Board(
        "NY",
        "New York State Education Department, Office of the Professions",
        lookup_url="https://www.op.nysed.gov/verification-search",
    ),
    Board("NC", "North Carolina Medical Board"),
    Board("ND", "North Dakota Board of Medicine"),
    Board(
        "OH", "State Medical Board of Ohio", lookup_url="https://elicense.ohio.gov/oh_verifylicense"
    ),
    Board("OK", "Oklahoma State Board of Medical Licensure and Supervision"),
    Board("OR", "Oregon Medical Board"),
    Board(
        "PA",
        "Pennsylvania State Board of Medicine",
        lookup_url="https://www.pals.pa.gov/#/page/search",
    ),
    Board("RI", "Rhode Island Board of Medical Licensure and Discipline"),
    Board("SC", "South Carolina Board of Medical Examiners"),
    Board("SD", "South Dakota Board of Medical and Osteopathic Examiners"),
    Board("TN", "Tennessee Board of Medical Examiners"),
    Board("TX", "Texas Medical Board", lookup_url="https://profile.tmb.state.tx.us/"),
    Board("UT", "Utah Division of Professional Licensing"),
    Board("VT", "Vermont Board of Medical Practice"),
    Board(
        "VA",
        "Virginia Board of Medicine",
        lookup_url="https://dhp.virginiainteractive.org/Lookup/Index",
    ),
    Board(
        "WA",
        "Washington Medical Commission",
        lookup_url="https://fortress.wa.gov/doh/providercredentialsearch/",
    ),
    Board("WV", "West Virginia Board of Medicine"),
    Board("WI", "Wisconsin Medical Examining Board"),
    Board("WY", "Wyoming Board of Medicine"),
]

STATE_BOARDS: dict[str, Board] = {b.state: b for b in _BOARDS}


def board_for(state: str) -> Board | None:
    """The licensing board of a state (two letters), or None outside the table."""
    return STATE_BOARDS.get((state or "").upper())


# The primary source that verifies each credential kind (life-support cards are not PSV'd).
SOURCE_FOR_KIND = {
    "state_license": VerificationSource.STATE_BOARD,
    "cds": VerificationSource.STATE_BOARD,
    "dea": VerificationSource.DEA,
    "board_cert": VerificationSource.BOARD,
    "malpractice": VerificationSource.MALPRACTICE_CARRIER,
    "education": VerificationSource.EDUCATION,
    "training": VerificationSource.EDUCATION,
    "work_history": VerificationSource.EMPLOYER,
    "privileges": VerificationSource.FACILITY,
}
PSV_KINDS = tuple(SOURCE_FOR_KIND)

# Checked once per provider, not per credential (the screening app's automated checks).
PROVIDER_CHECKS = (VerificationSource.NPPES, VerificationSource.OIG, VerificationSource.SAM)

# How a source is usually checked, to preselect the record form's method.
DEFAULT_METHOD = {
    VerificationSource.STATE_BOARD: VerificationMethod.WEB,
    VerificationSource.DEA: VerificationMethod.WEB,
    VerificationSource.BOARD: VerificationMethod.WEB,
    VerificationSource.NPPES: VerificationMethod.API,
    VerificationSource.OIG: VerificationMethod.WEB,
    VerificationSource.SAM: VerificationMethod.WEB,
    VerificationSource.EDUCATION: VerificationMethod.EMAIL,
    VerificationSource.EMPLOYER: VerificationMethod.EMAIL,
    VerificationSource.FACILITY: VerificationMethod.EMAIL,
    VerificationSource.NPDB: VerificationMethod.WEB,
    VerificationSource.MALPRACTICE_CARRIER: VerificationMethod.EMAIL,
}


def source_for(credential) -> dict:
    """The preselected source, state, name and method for verifying a credential."""
    source = SOURCE_FOR_KIND.get(credential.kind, "")
    state = credential.state if source == VerificationSource.STATE_BOARD else ""
    details = credential.details or {}
    name = {
        VerificationSource.BOARD: details.get("board", ""),
        VerificationSource.MALPRACTICE_CARRIER: details.get("carrier", "") or credential.issuer,
        VerificationSource.EDUCATION: details.get("institution", ""),
        VerificationSource.EMPLOYER: details.get("employer", ""),
        VerificationSource.FACILITY: details.get("facility", ""),
    }.get(source, "")
    method = DEFAULT_METHOD.get(source, VerificationMethod.WEB)
    board = board_for(state) if state else None
    if board:
        name = board.name
        if board.written_only:
            method = board.method
    return {"source": source, "source_state": state, "source_name": name, "method": method}


def written_request_target(source: str, state: str) -> tuple[str, str]:
    """(method, address) a written request goes to by default: the board's, or blank."""
    board = board_for(state) if source == VerificationSource.STATE_BOARD else None
    if board and board.written_only:
        return board.method, board.contact
    return VerificationMethod.EMAIL, ""
