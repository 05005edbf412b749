"""Where each credential is verified: the primary source for a credential kind, and a starting
table of state licensing boards: the medical board of every state and DC, and, for the common
states, the board of each other licensed profession (nursing, social work, counseling,
psychology, pharmacy, dentistry, PT, OT, physician assistants and osteopathic physicians where
those have their own board). A licence goes to the board of its state *and* its licence type:
a CRNA's licence to the nursing board, an LCSW's to the social work board, a DO's to the
osteopathic board where one is separate (otherwise the medical board).

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
    profession: str = "medicine"  # a key of PROFESSIONS

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

# --- licence types and the boards of the other professions ----------------------------------

# profession -> how it reads in a fallback name ("Nevada nursing board")
PROFESSIONS = {
    "medicine": "medical",
    "osteopathic": "osteopathic medical",
    "physician_assistant": "physician assistant",
    "nursing": "nursing",
    "social_work": "social work",
    "counseling": "counseling",
    "marriage_family": "marriage and family therapy",
    "psychology": "psychology",
    "pharmacy": "pharmacy",
    "dental": "dental",
    "physical_therapy": "physical therapy",
    "occupational_therapy": "occupational therapy",
    "podiatry": "podiatric medical",
    "chiropractic": "chiropractic",
    "optometry": "optometry",
    "speech": "speech-language pathology",
    "dietetics": "dietetics",
}
# Where a profession has no board of its own in a state, its licences go to this one.
_FALLBACK = {
    "osteopathic": "medicine",
    "physician_assistant": "medicine",
    "marriage_family": "counseling",
}
# licence type (the provider type, or the credential's details["license_type"]) -> profession
PROFESSION_OF_TYPE = {
    "MD": "medicine",
    "DO": "osteopathic",
    "PA": "physician_assistant",
    "PA-C": "physician_assistant",
    "RN": "nursing",
    "LPN": "nursing",
    "LVN": "nursing",
    "APRN": "nursing",
    "NP": "nursing",
    "CRNA": "nursing",
    "CNM": "nursing",
    "CNS": "nursing",
    "LCSW": "social_work",
    "LICSW": "social_work",
    "LMSW": "social_work",
    "LSW": "social_work",
    "LPC": "counseling",
    "LPCC": "counseling",
    "LMHC": "counseling",
    "LCPC": "counseling",
    "LMFT": "marriage_family",
    "PHD": "psychology",
    "PSYD": "psychology",
    "PSYCHOLOGIST": "psychology",
    "PHARMD": "pharmacy",
    "RPH": "pharmacy",
    "DDS": "dental",
    "DMD": "dental",
    "PT": "physical_therapy",
    "DPT": "physical_therapy",
    "OT": "occupational_therapy",
    "OTR": "occupational_therapy",
    "DPM": "podiatry",
    "DC": "chiropractic",
    "OD": "optometry",
    "SLP": "speech",
    "RD": "dietetics",
}

# One agency licenses every profession in these states (one look-up for all of them).
_ONE_AGENCY = {"NY", "IL", "UT"}

# Public look-ups that serve every board of a state's licensing department.
_CA_DCA = "https://search.dca.ca.gov/"
_FL_MQA = "https://mqa-internet.doh.state.fl.us/MQASearchServices/HealthCareProviders"
_PA_PALS = "https://www.pals.pa.gov/#/page/search"
_OH_ELICENSE = "https://elicense.ohio.gov/oh_verifylicense"
_VA_DHP = "https://dhp.virginiainteractive.org/Lookup/Index"
_WA_DOH = "https://fortress.wa.gov/doh/providercredentialsearch/"
_CO_DORA = "https://apps2.colorado.gov/dora/licensing/Lookup/LicenseLookup.aspx"
_CT_ELICENSE = "https://www.elicense.ct.gov/Lookup/LicenseLookup.aspx"
_TX_TMB = "https://profile.tmb.state.tx.us/"
# Nurses: Nursys QuickConfirm is the boards' own primary-source verification service.
_NURSYS = "https://www.nursys.com/"


def _b(state, profession, name, lookup_url=""):
    return Board(state, name, lookup_url=lookup_url, profession=profession)


_PROFESSION_BOARDS = [
    # California: the Department of Consumer Affairs' boards, one look-up for all
    _b("CA", "osteopathic", "Osteopathic Medical Board of California", _CA_DCA),
    _b("CA", "physician_assistant", "Physician Assistant Board of California", _CA_DCA),
    _b("CA", "nursing", "California Board of Registered Nursing", _CA_DCA),
    _b("CA", "social_work", "California Board of Behavioral Sciences", _CA_DCA),
    _b("CA", "counseling", "California Board of Behavioral Sciences", _CA_DCA),
    _b("CA", "psychology", "California Board of Psychology", _CA_DCA),
    _b("CA", "pharmacy", "California State Board of Pharmacy", _CA_DCA),
    _b("CA", "dental", "Dental Board of California", _CA_DCA),
    _b("CA", "physical_therapy", "Physical Therapy Board of California", _CA_DCA),
    _b("CA", "occupational_therapy", "California Board of Occupational Therapy", _CA_DCA),
    _b("CA", "podiatry", "Podiatric Medical Board of California", _CA_DCA),
    # Texas (the Medical Board also licenses DOs and, through its PA board, PAs)
    _b("TX", "physician_assistant", "Texas Physician Assistant Board", _TX_TMB),
    _b("TX", "nursing", "Texas Board of Nursing", _NURSYS),
    _b("TX", "social_work", "Texas Behavioral Health Executive Council (Social Work)"),
    _b("TX", "counseling", "Texas Behavioral Health Executive Council (Professional Counselors)"),
    _b("TX", "marriage_family", "Texas Behavioral Health Executive Council (Marriage and Family)"),
    _b("TX", "psychology", "Texas Behavioral Health Executive Council (Psychologists)"),
    _b("TX", "pharmacy", "Texas State Board of Pharmacy"),
    _b("TX", "dental", "Texas State Board of Dental Examiners"),
    _b("TX", "physical_therapy", "Texas Board of Physical Therapy Examiners"),
    _b("TX", "occupational_therapy", "Texas Board of Occupational Therapy Examiners"),
    # Florida: the Department of Health's boards (MQA), one look-up for all
    _b("FL", "osteopathic", "Florida Board of Osteopathic Medicine", _FL_MQA),
    _b("FL", "nursing", "Florida Board of Nursing", _FL_MQA),
    _b(
        "FL",
        "social_work",
        "Florida Board of Clinical Social Work, Marriage & Family Therapy and Mental Health "
        "Counseling",
        _FL_MQA,
    ),
    _b(
        "FL",
        "counseling",
        "Florida Board of Clinical Social Work, Marriage & Family Therapy and Mental Health "
        "Counseling",
        _FL_MQA,
    ),
    _b("FL", "psychology", "Florida Board of Psychology", _FL_MQA),
    _b("FL", "pharmacy", "Florida Board of Pharmacy", _FL_MQA),
    _b("FL", "dental", "Florida Board of Dentistry", _FL_MQA),
    _b("FL", "physical_therapy", "Florida Board of Physical Therapy Practice", _FL_MQA),
    _b("FL", "occupational_therapy", "Florida Board of Occupational Therapy", _FL_MQA),
    _b("FL", "podiatry", "Florida Board of Podiatric Medicine", _FL_MQA),
    # Pennsylvania: the Bureau of Professional and Occupational Affairs (PALS)
    _b("PA", "osteopathic", "Pennsylvania State Board of Osteopathic Medicine", _PA_PALS),
    _b("PA", "nursing", "Pennsylvania State Board of Nursing", _PA_PALS),
    _b(
        "PA",
        "social_work",
        "Pennsylvania State Board of Social Workers, Marriage and Family Therapists and "
        "Professional Counselors",
        _PA_PALS,
    ),
    _b(
        "PA",
        "counseling",
        "Pennsylvania State Board of Social Workers, Marriage and Family Therapists and "
        "Professional Counselors",
        _PA_PALS,
    ),
    _b("PA", "psychology", "Pennsylvania State Board of Psychology", _PA_PALS),
    _b("PA", "pharmacy", "Pennsylvania State Board of Pharmacy", _PA_PALS),
    _b("PA", "dental", "Pennsylvania State Board of Dentistry", _PA_PALS),
    _b("PA", "physical_therapy", "Pennsylvania State Board of Physical Therapy", _PA_PALS),
    _b(
        "PA",
        "occupational_therapy",
        "Pennsylvania State Board of Occupational Therapy Education and Licensure",
        _PA_PALS,
    ),
    # Ohio: eLicense serves every board (the Medical Board licenses DOs and PAs)
    _b("OH", "nursing", "Ohio Board of Nursing", _OH_ELICENSE),
    _b(
        "OH",
        "social_work",
        "Ohio Counselor, Social Worker and Marriage and Family Therapist Board",
        _OH_ELICENSE,
    ),
    _b(
        "OH",
        "counseling",
        "Ohio Counselor, Social Worker and Marriage and Family Therapist Board",
        _OH_ELICENSE,
    ),
    _b("OH", "psychology", "Ohio Board of Psychology", _OH_ELICENSE),
    _b("OH", "pharmacy", "Ohio State Board of Pharmacy", _OH_ELICENSE),
    _b("OH", "dental", "Ohio State Dental Board", _OH_ELICENSE),
    _b(
        "OH",
        "physical_therapy",
        "Ohio Occupational Therapy, Physical Therapy, and Athletic Trainers Board",
        _OH_ELICENSE,
    ),
    _b(
        "OH",
        "occupational_therapy",
        "Ohio Occupational Therapy, Physical Therapy, and Athletic Trainers Board",
        _OH_ELICENSE,
    ),
    # Virginia: the Department of Health Professions (the Board of Medicine licenses DOs, PAs
    # and OTs)
    _b("VA", "nursing", "Virginia Board of Nursing", _VA_DHP),
    _b("VA", "social_work", "Virginia Board of Social Work", _VA_DHP),
    _b("VA", "counseling", "Virginia Board of Counseling", _VA_DHP),
    _b("VA", "psychology", "Virginia Board of Psychology", _VA_DHP),
    _b("VA", "pharmacy", "Virginia Board of Pharmacy", _VA_DHP),
    _b("VA", "dental", "Virginia Board of Dentistry", _VA_DHP),
    _b("VA", "physical_therapy", "Virginia Board of Physical Therapy", _VA_DHP),
    # Washington: the Department of Health's credential search serves every profession
    _b("WA", "osteopathic", "Washington Board of Osteopathic Medicine and Surgery", _WA_DOH),
    _b("WA", "nursing", "Washington State Board of Nursing", _WA_DOH),
    _b("WA", "social_work", "Washington State Department of Health (social workers)", _WA_DOH),
    _b("WA", "counseling", "Washington State Department of Health (counselors)", _WA_DOH),
    _b("WA", "psychology", "Washington Examining Board of Psychology", _WA_DOH),
    _b("WA", "pharmacy", "Washington Pharmacy Quality Assurance Commission", _WA_DOH),
    _b("WA", "dental", "Washington Dental Quality Assurance Commission", _WA_DOH),
    _b("WA", "physical_therapy", "Washington Board of Physical Therapy", _WA_DOH),
    _b("WA", "occupational_therapy", "Washington Occupational Therapy Practice Board", _WA_DOH),
    # Colorado: DORA's look-up serves every board (the Medical Board licenses DOs and PAs)
    _b("CO", "nursing", "Colorado Board of Nursing", _CO_DORA),
    _b("CO", "social_work", "Colorado State Board of Social Work Examiners", _CO_DORA),
    _b(
        "CO",
        "counseling",
        "Colorado State Board of Licensed Professional Counselor Examiners",
        _CO_DORA,
    ),
    _b(
        "CO",
        "marriage_family",
        "Colorado State Board of Marriage and Family Therapist Examiners",
        _CO_DORA,
    ),
    _b("CO", "psychology", "Colorado State Board of Psychologist Examiners", _CO_DORA),
    _b("CO", "pharmacy", "Colorado State Board of Pharmacy", _CO_DORA),
    _b("CO", "dental", "Colorado Dental Board", _CO_DORA),
    _b("CO", "physical_therapy", "Colorado Physical Therapy Board", _CO_DORA),
    # Connecticut: the Department of Public Health licenses, eLicense looks up
    _b("CT", "nursing", "Connecticut Board of Examiners for Nursing", _CT_ELICENSE),
    # Separate osteopathic boards elsewhere (no look-up address we are sure of)
    _b("AZ", "osteopathic", "Arizona Board of Osteopathic Examiners in Medicine and Surgery"),
    _b("MI", "osteopathic", "Michigan Board of Osteopathic Medicine and Surgery"),
    _b("NV", "osteopathic", "Nevada State Board of Osteopathic Medicine"),
    _b("OK", "osteopathic", "Oklahoma State Board of Osteopathic Examiners"),
    _b("TN", "osteopathic", "Tennessee Board of Osteopathic Examination"),
    _b("ME", "osteopathic", "Maine Board of Osteopathic Licensure"),
    _b("WV", "osteopathic", "West Virginia Board of Osteopathic Medicine"),
    _b("VT", "osteopathic", "Vermont Board of Osteopathic Physicians and Surgeons"),
    # Nursing boards elsewhere: Nursys QuickConfirm verifies their licences
    _b("AZ", "nursing", "Arizona State Board of Nursing", _NURSYS),
    _b("GA", "nursing", "Georgia Board of Nursing", _NURSYS),
    _b("NC", "nursing", "North Carolina Board of Nursing", _NURSYS),
    _b("NJ", "nursing", "New Jersey Board of Nursing", _NURSYS),
    _b("MA", "nursing", "Massachusetts Board of Registration in Nursing", _NURSYS),
    _b("MI", "nursing", "Michigan Board of Nursing", _NURSYS),
]

PROFESSION_BOARDS: dict[tuple[str, str], Board] = {
    (b.state, b.profession): b for b in _PROFESSION_BOARDS
}

STATE_NAMES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
    "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont",
    "VA": "Virginia", "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin",
    "WY": "Wyoming",
}  # fmt: skip


def profession_of(licence_type: str) -> str:
    """The profession a licence type belongs to ("CRNA" -> "nursing"); medicine when unknown."""
    key = (licence_type or "").upper().replace(".", "").strip()
    return PROFESSION_OF_TYPE.get(key, "medicine" if not key else "")


def licence_type_of(credential, provider=None) -> str:
    """A licence's type: the credential's own (details["license_type"]) or its holder's type."""
    details = credential.details or {}
    own = (details.get("license_type") or "").strip()
    if own:
        return own
    provider = provider if provider is not None else credential.provider
    return provider.provider_type if provider is not None else ""


def board_for(state: str, licence_type: str = "") -> Board | None:
    """The board that verifies a licence of `licence_type` in `state` (two letters).

    A profession with its own board in the table gets it; osteopathic physicians and physician
    assistants without a separate board go to the medical board; a state where one agency
    licenses everything gets that agency; a profession the table does not know in that state
    gets a descriptive name with no look-up (never the medical board); None outside the 51.
    """
    state = (state or "").upper()
    medical = STATE_BOARDS.get(state)
    if medical is None:
        return None
    profession = profession_of(licence_type)
    if profession == "medicine" or state in _ONE_AGENCY:
        return medical
    if not profession:  # a licence type we do not know: not the medical board by default
        return _generic(state, "")
    board = PROFESSION_BOARDS.get((state, profession))
    if board is not None:
        return board
    fallback = _FALLBACK.get(profession)
    if fallback == "medicine":
        return medical
    if fallback:
        board = PROFESSION_BOARDS.get((state, fallback))
        if board is not None:
            return board
    return _generic(state, PROFESSIONS.get(profession, ""))


def _generic(state: str, label: str) -> Board:
    name = f"{STATE_NAMES[state]} {label} licensing board" if label else ""
    name = name or f"{STATE_NAMES[state]} licensing board"
    return Board(state, " ".join(name.split()), profession="other")


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
    board = board_for(state, licence_type_of(credential)) if state else None
    if board:
        name = board.name
        if board.written_only:
            method = board.method
    return {"source": source, "source_state": state, "source_name": name, "method": method}


def written_request_target(source: str, state: str, licence_type: str = "") -> tuple[str, str]:
    """(method, address) a written request goes to by default: the board's, or blank."""
    board = board_for(state, licence_type) if source == VerificationSource.STATE_BOARD else None
    if board and board.written_only:
        return board.method, board.contact
    return VerificationMethod.EMAIL, ""
