"""A synthetic demo roster: about 200 clinicians with mixed credential states.

Nothing here describes a real person. Names are random pairs from common-name lists;
NPIs are random 10-digit numbers with a correct check digit (any match with a real
registrant is coincidence, and none is taken from the shared sample files); SSNs use the
900-999 area, which the SSA never issues; phone numbers are in the 555-01xx range reserved
for fiction; e-mail addresses are at example.org; carriers, schools and hospitals are
invented. Dates are relative to the day of seeding, so every dashboard block has content:
credentials expired and expiring within 30/60/90 days, unknown expiry dates, CAQH
attestations older than 120 days and re-credentialing due within 120 days.
"""

from __future__ import annotations

import functools
import hashlib
import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from credex import capabilities as cap
from credex.actors import audit_actor, require
from credex.models import Membership, Role
from roster import crypto
from roster.models import (
    Credential,
    CredentialKind,
    CredentialStatus,
    Provider,
    ProviderStatus,
    TaxonomyCode,
)
from roster.services.providers import add_months
from roster.services.requirements import requirements_apply_recommended
from roster.validation import npi_check_digit

from .direct import roster_rows_write

FIRST_NAMES = (
    "Aaliyah Aaron Abigail Adrian Aisha Alan Alejandro Alicia Amara Amir Ana Andre Anika Arjun "
    "Beatriz Benjamin Bianca Caleb Camila Carlos Chen Chloe Daniel Daria Deepa Diego Elena "
    "Elijah Emeka Emily Farah Felix Fiona Gabriel Grace Hana Hassan Helena Ian Imani Isaac "
    "Jasmine Javier Jia Jonah Julia Kai Kavya Keisha Kenji Laila Lars Leah Liam Lucia Malik "
    "Maya Mei Miguel Mina Nadia Naomi Nikhil Nora Omar Owen Priya Rafael Rania Rohan Ruth "
    "Samuel Sana Sofia Tariq Teresa Theo Uma Victor Wei Yara Yusuf Zara"
).split()
LAST_NAMES = (
    "Abbott Adeyemi Alvarez Andersen Bajwa Becker Bennett Brennan Castillo Chandra Chen "
    "Costa Dawson Delgado Duarte Ellison Eriksen Farouk Fischer Fontaine Garber Gallagher "
    "Haddad Hartman Holloway Ibarra Iyer Jansen Kapoor Kaur Keller Kowalski Larkin Lindqvist "
    "Lozano Madsen Marchetti Mbeki Mendoza Moreau Nakamura Novak Nwosu Okafor Oyelaran Park "
    "Petrov Quintero Rahman Reyes Rinaldi Rosen Sandoval Schreiber Serrano Shah Sorensen "
    "Tanaka Thibault Torres Ueda Valdez Varga Vasquez Voss Wainwright Weber Whitfield Xu "
    "Yamada Yilmaz Zamora Zielinski"
).split()

# provider type -> (weight, taxonomy codes, prescriber)
TYPES = {
    "MD": (
        34,
        [
            "207R00000X",
            "207Q00000X",
            "208000000X",
            "207V00000X",
            "207P00000X",
            "2084P0800X",
            "207RC0000X",
            "208600000X",
            "207L00000X",
            "2085R0202X",
            "207X00000X",
            "207N00000X",
            "207RG0100X",
            "2084N0400X",
            "207RE0101X",
            "207RP1001X",
        ],
        True,
    ),
    "DO": (10, ["207Q00000X", "207R00000X", "207P00000X", "208000000X", "2084P0800X"], True),
    "NP": (18, ["363LF0000X", "363LA2200X", "363LP0808X", "363LP0200X", "363LW0102X"], True),
    "PA": (12, ["363A00000X", "363AM0700X"], True),
    "CRNA": (4, ["367500000X"], True),
    "PHD": (5, ["103T00000X", "103TC0700X"], False),
    "LCSW": (6, ["1041C0700X"], False),
    "DDS": (4, ["122300000X", "1223G0001X"], True),
    "DPM": (2, ["213E00000X"], True),
    "LPC": (3, ["101YP2500X"], False),
    "PT": (2, ["225100000X"], False),
}
BOARDS = {
    "207R": ("American Board of Internal Medicine", "Internal Medicine"),
    "207Q": ("American Board of Family Medicine", "Family Medicine"),
    "2080": ("American Board of Pediatrics", "Pediatrics"),
    "207V": ("American Board of Obstetrics and Gynecology", "Obstetrics and Gynecology"),
    "207P": ("American Board of Emergency Medicine", "Emergency Medicine"),
    "2084": ("American Board of Psychiatry and Neurology", "Psychiatry"),
    "2086": ("American Board of Surgery", "General Surgery"),
    "207L": ("American Board of Anesthesiology", "Anesthesiology"),
    "2085": ("American Board of Radiology", "Diagnostic Radiology"),
    "207X": ("American Board of Orthopaedic Surgery", "Orthopaedic Surgery"),
    "207N": ("American Board of Dermatology", "Dermatology"),
    "363L": ("American Academy of Nurse Practitioners Certification Board", "FNP"),
    "363A": ("NCCPA", "PA-C"),
    "3675": ("NBCRNA", "Nurse Anesthesia"),
}
# Invented institutions: none of these is a real school, hospital or insurer.
SCHOOLS = [
    "Northfield University School of Medicine",
    "Cascade State College of Health Sciences",
    "Lakemont University",
    "Harbor Bay Institute of Medicine",
    "Granite Ridge University",
    "Willow Creek College of Nursing",
]
HOSPITALS = [
    "Cedar Hollow Medical Center",
    "St. Brennan Community Hospital",
    "Millbrook Regional Health",
    "Summit Valley Clinic",
    "Eastgate Family Practice",
    "Pinecrest Behavioral Health",
]
CARRIERS = [
    "Keystone Mutual Medical Liability",
    "Evergreen Physicians Indemnity",
    "Bluewater Professional Assurance",
]
REGIONS = {
    "riverbend": ["OR", "WA", "ID"],
    "lakeside": ["MI", "OH", "IN"],
}
DEFAULT_REGION = ["CA", "NV", "AZ"]

# Expiry buckets: (weight, min days from today, max days); None = no expiry date recorded.
EXPIRY_BUCKETS = [
    (7, -200, -1),  # expired
    (8, 0, 30),
    (7, 31, 60),
    (7, 61, 90),
    (67, 91, 900),
    (4, None, None),  # unknown expiry
]


def _dea_number(rng: random.Random, last_name: str, mid_level: bool) -> str:
    first = rng.choice("MM" if mid_level else "ABF")
    digits = [rng.randint(0, 9) for _ in range(6)]
    check = ((digits[0] + digits[2] + digits[4]) + 2 * (digits[1] + digits[3] + digits[5])) % 10
    return f"{first}{last_name[0].upper()}{''.join(map(str, digits))}{check}"


def _npi(rng: random.Random, used: set[str]) -> str:
    while True:
        nine = "1" + "".join(str(rng.randint(0, 9)) for _ in range(8))
        npi = nine + str(npi_check_digit(nine))
        if npi not in used:
            used.add(npi)
            return npi


def _expiry(rng: random.Random, today: date) -> date | None:
    weights = [b[0] for b in EXPIRY_BUCKETS]
    _, low, high = rng.choices(EXPIRY_BUCKETS, weights=weights)[0]
    if low is None:
        return None
    return today + timedelta(days=rng.randint(low, high))


class _Builder:
    """Builds unsaved Provider and Credential rows for one organization."""

    def __init__(self, org, rng: random.Random, today: date, coordinators: list[Membership]):
        self.org, self.rng, self.today = org, rng, today
        self.coordinators = coordinators
        self.region = REGIONS.get(org.slug, DEFAULT_REGION)
        self.used_npis: set[str] = set()
        known = set(TaxonomyCode.objects.values_list("code", flat=True))
        self.types = {
            t: (w, [c for c in codes if c in known], rx) for t, (w, codes, rx) in TYPES.items()
        }
        self.credentials: list[Credential] = []

    def provider(self, index: int) -> Provider:
        rng = self.rng
        ptype = rng.choices(list(self.types), weights=[v[0] for v in self.types.values()])[0]
        _, codes, _ = self.types[ptype]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        status = rng.choices(
            [ProviderStatus.ACTIVE, ProviderStatus.APPLICANT, ProviderStatus.INACTIVE,
             ProviderStatus.TERMINATED],
            weights=[76, 13, 7, 4],
        )[0]  # fmt: skip
        states = [self.region[0] if rng.random() < 0.75 else rng.choice(self.region)]
        if rng.random() < 0.2:
            states.append(rng.choice([s for s in self.region if s != states[0]]))
        primary = rng.choice(codes) if codes else None
        dob = date(rng.randint(1956, 1993), rng.randint(1, 12), rng.randint(1, 28))
        ssn = f"9{rng.randint(0, 99):02d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
        p = Provider(
            organization=self.org,
            npi=_npi(rng, self.used_npis),
            first_name=first,
            middle_name=rng.choice(["", "", "", *(f"{c}." for c in "ABCDEJLMRS")]),
            last_name=last,
            suffix=rng.choice(["", "", "", "", "", "", "Jr.", "II"]),
            former_names=[f"{first} {rng.choice(LAST_NAMES)}"] if rng.random() < 0.08 else [],
            provider_type=ptype,
            primary_taxonomy_id=primary,
            taxonomy_codes=[primary] if primary else [],
            practice_states=states,
            dob_encrypted=crypto.encrypt(dob.isoformat()),
            ssn_encrypted=crypto.encrypt(ssn),
            ssn_last4=ssn[-4:],
            email=f"{first}.{last}.{index}@example.org".lower(),
            phone=f"(503) 555-01{rng.randint(0, 99):02d}",
            city=rng.choice(["Riverbend", "Maple Falls", "Cedar Hollow", "Eastgate"]),
            state=states[0],
            postal_code=f"{rng.randint(10000, 99999)}",
            status=status,
            coordinator=self._coordinator(),
            caqh_id=str(rng.randint(10_000_000, 19_999_999)),
        )
        self._dates(p)
        self._credentials(p, rx=self.types[ptype][2])
        return p

    def _coordinator(self) -> Membership | None:
        if not self.coordinators or self.rng.random() < 0.1:
            return None
        return self.rng.choice(self.coordinators)

    def _dates(self, p: Provider) -> None:
        rng, today = self.rng, self.today
        cycle = self.org.recredentialing_cycle_months
        if p.status == ProviderStatus.APPLICANT:
            p.caqh_last_attested = today - timedelta(days=rng.randint(5, 100))
            return
        p.hire_date = today - timedelta(days=rng.randint(200, 5000))
        roll = rng.random()
        if roll < 0.16:  # re-credentialing due within 120 days
            due = today + timedelta(days=rng.randint(0, 120))
        elif roll < 0.2:  # overdue
            due = today - timedelta(days=rng.randint(1, 40))
        else:
            due = today + timedelta(days=rng.randint(121, cycle * 30))
        p.committee_decision_date = add_months(due, -cycle)
        p.recredentialing_due_date = due
        p.initial_credentialing_date = (
            p.committee_decision_date
            if rng.random() < 0.4
            else add_months(p.committee_decision_date, -cycle * rng.randint(1, 3))
        )
        roll = rng.random()
        if roll < 0.14:  # re-attestation overdue (older than 120 days)
            p.caqh_last_attested = today - timedelta(days=rng.randint(121, 300))
        elif roll < 0.3:  # due within 30 days
            p.caqh_last_attested = today - timedelta(days=rng.randint(90, 120))
        elif roll < 0.95:
            p.caqh_last_attested = today - timedelta(days=rng.randint(1, 89))

    def _add(self, p: Provider, kind: str, **fields) -> None:
        expiry = fields.get("expiry_date")
        status = fields.pop("status", None)
        if status is None:
            status = CredentialStatus.ACTIVE
            if expiry and expiry < self.today - timedelta(days=30):
                status = CredentialStatus.EXPIRED
        self.credentials.append(
            Credential(organization=self.org, provider=p, kind=kind, status=status, **fields)
        )

    def _credentials(self, p: Provider, *, rx: bool) -> None:
        rng, today = self.rng, self.today
        board_name = "Medicine" if p.provider_type in ("MD", "DO") else "Health Professions"
        for st in p.practice_states:
            expiry = _expiry(rng, today)
            self._add(
                p,
                CredentialKind.STATE_LICENSE,
                number=f"{p.provider_type[:2]}{rng.randint(10000, 999999)}",
                issuer=f"{st} Board of {board_name}",
                state=st,
                issue_date=(expiry or today) - timedelta(days=730),
                expiry_date=expiry,
            )
        if rx and rng.random() < 0.9:
            expiry = _expiry(rng, today)
            self._add(
                p,
                CredentialKind.DEA,
                number=_dea_number(rng, p.last_name, p.provider_type in ("NP", "PA", "CRNA")),
                issuer="DEA",
                state=p.practice_states[0],
                issue_date=(expiry or today) - timedelta(days=1095),
                expiry_date=expiry,
            )
            if rng.random() < 0.3:
                cds_expiry = _expiry(rng, today)
                self._add(
                    p,
                    CredentialKind.CDS,
                    number=f"CDS-{rng.randint(100000, 999999)}",
                    issuer=f"{p.practice_states[0]} Board of Pharmacy",
                    state=p.practice_states[0],
                    issue_date=(cds_expiry or today) - timedelta(days=730),
                    expiry_date=cds_expiry,
                )
        board = BOARDS.get((p.primary_taxonomy_id or "")[:4])
        if board and rng.random() < 0.85:
            expiry = _expiry(rng, today)
            self._add(
                p,
                CredentialKind.BOARD_CERT,
                number=f"BC{rng.randint(100000, 999999)}",
                issuer=board[0],
                issue_date=(expiry or today) - timedelta(days=3650),
                expiry_date=expiry,
                details={"board": board[0], "specialty": board[1]},
            )
        if rng.random() < 0.92:
            expiry = _expiry(rng, today)
            self._add(
                p,
                CredentialKind.MALPRACTICE,
                number=f"PL-{rng.randint(1000000, 9999999)}",
                issuer=(carrier := rng.choice(CARRIERS)),
                issue_date=(expiry or today) - timedelta(days=365),
                expiry_date=expiry,
                details={
                    "carrier": carrier,
                    "policy_number": f"PL-{rng.randint(1000000, 9999999)}",
                    "per_claim_cents": rng.choice([100_000_000, 200_000_000]),
                    "aggregate_cents": rng.choice([300_000_000, 400_000_000]),
                },
            )
        if rng.random() < 0.5:
            self._add(
                p,
                CredentialKind.LIFE_SUPPORT,
                issuer="Heart Safety Council",
                expiry_date=_expiry(rng, today),
                details={"certification": rng.choice(["BLS", "ACLS", "PALS"])},
            )
        self._history(p)

    def _history(self, p: Provider) -> None:
        rng, today = self.rng, self.today
        grad = today - timedelta(days=rng.randint(6, 25) * 365)
        self._add(
            p,
            CredentialKind.EDUCATION,
            start_date=grad - timedelta(days=4 * 365),
            end_date=grad,
            details={
                "institution": rng.choice(SCHOOLS),
                "degree": {"MD": "MD", "DO": "DO", "DDS": "DDS", "DPM": "DPM"}.get(
                    p.provider_type, "MS"
                ),
            },
        )
        start = grad + timedelta(days=rng.randint(20, 60))
        if p.provider_type in ("MD", "DO"):
            end = start + timedelta(days=3 * 365)
            self._add(
                p,
                CredentialKind.TRAINING,
                start_date=start,
                end_date=end,
                details={"institution": rng.choice(HOSPITALS), "program": "Residency"},
            )
            start = end + timedelta(days=rng.randint(10, 60))
        positions = rng.randint(1, 3)
        gap_at = rng.randrange(positions) if rng.random() < 0.12 else None
        for i in range(positions):
            if i == gap_at:  # a gap of 7 to 14 months before this position
                start += timedelta(days=rng.randint(215, 420))
            last = i == positions - 1
            end = None if last else start + timedelta(days=rng.randint(400, 1500))
            if end and end >= today:
                end, last = None, True
            self._add(
                p,
                CredentialKind.WORK_HISTORY,
                start_date=min(start, today),
                end_date=end,
                details={
                    "employer": self.org.name if last else rng.choice(HOSPITALS),
                    "position": "Staff " + (p.provider_type if p.provider_type else "clinician"),
                },
            )
            if last:
                break
            start = end + timedelta(days=rng.randint(1, 45))
        if p.provider_type in ("MD", "DO") and rng.random() < 0.45:
            facility = rng.choice(HOSPITALS)
            issued = today - timedelta(days=rng.randint(100, 700))
            expiry = _expiry(rng, today)
            if expiry is not None and expiry <= issued:  # long expired: granted before that
                issued = expiry - timedelta(days=730)
            self._add(
                p,
                CredentialKind.PRIVILEGES,
                issuer=facility,
                state=p.practice_states[0],
                issue_date=issued,
                expiry_date=expiry,
                details={"facility": facility},
            )


def seed_demo_roster(org, actor, *, count: int = 200) -> int:
    """Fill an empty roster with `count` synthetic providers; returns how many were added
    (0 when the organization already has providers: idempotent)."""
    require(actor, cap.CHANGE_ROSTER)
    if Provider.objects.filter(organization=org).exists():
        return 0
    # Seeded (not secret): the same demo roster on every fresh machine.
    rng = random.Random(f"credex-demo:{org.slug}")  # noqa: S311
    today = timezone.localdate()
    coordinators = list(
        Membership.objects.filter(organization=org, role=Role.COORDINATOR).select_related("user")
    )
    with transaction.atomic():
        if cap.CHANGE_SETTINGS in _caps(actor):
            requirements_apply_recommended(org=org, actor=actor, provider_types=list(TYPES))
        builder = _Builder(org, rng, today, coordinators)
        providers = [builder.provider(i) for i in range(count)]
        roster_rows_write(providers=providers, credentials=builder.credentials)
        audit_record(
            org=org,
            actor=audit_actor(actor),
            action="roster.demo_seeded",
            target_type="roster.provider",
            data={
                "providers": len(providers),
                "credentials": len(builder.credentials),
                "note": "Synthetic demo roster (bulk insert; one event for the whole seeding).",
            },
        )
    return len(providers)


def _caps(actor) -> frozenset:
    from credex.capabilities import ROLE_CAPABILITIES

    return ROLE_CAPABILITIES.get(actor.role, frozenset())


DEMO_FILE_PREFIX = "demo-file-"


@functools.cache
def _demo_pdf(kind_label: str) -> bytes:
    """A one-page placeholder PDF standing in for a scanned credential document (one per
    kind: rendering is the slow part of seeding)."""
    from weasyprint import HTML

    return HTML(
        string=(
            "<html><body style='font-family:sans-serif'>"
            f"<h1>{kind_label}</h1><p>Demo copy on file.</p>"
            "<p>Synthetic document: CredEx demo data.</p></body></html>"
        )
    ).write_pdf()


def seed_demo_complete_files(org, actor, *, count: int = 10) -> int:
    """Complete a few files for the committee demo: providers whose only gap is a missing
    document (every element verified, nothing expired) get a placeholder PDF for each required
    kind, accepted. Stored by the roster itself, without the upload hooks (no extraction of a
    placeholder). Once per organization; returns how many files were completed."""
    from audit.services import audit_record_many
    from roster.models import CredentialKind, Document, DocumentStatus
    from roster.services.requirements import (
        DOCUMENT_KIND_FOR,
        provider_missing,
        requirements_by_type,
    )
    from verifications.selectors.readiness import psv_gaps

    if Document.objects.filter(
        organization=org, original_name__startswith=DEMO_FILE_PREFIX
    ).exists():
        return 0
    today = timezone.localdate()
    by_type = requirements_by_type(org=org)
    member = actor if isinstance(actor, Membership) else None
    providers = (
        Provider.objects.filter(
            organization=org,
            excluded=False,
            status__in=(ProviderStatus.ACTIVE, ProviderStatus.APPLICANT),
        )
        .prefetch_related("credentials", "documents")
        .order_by("last_name", "first_name")
    )
    completed, events = 0, []
    with transaction.atomic():
        for provider in providers:
            required = by_type.get(provider.provider_type)
            if not required:
                continue
            credentials = list(provider.credentials.all())
            missing = provider_missing(
                provider=provider,
                required=required,
                credentials=credentials,
                documents=list(provider.documents.all()),
                today=today,
            )
            if not missing or any(m.problem != "document" for m in missing):
                continue
            if psv_gaps(org=org, provider=provider, kinds=required, as_of=today):
                continue
            for gap in missing:
                credential = next(c for c in credentials if c.kind == gap.kind)
                label = CredentialKind(gap.kind).label
                data = _demo_pdf(label)
                document = Document(
                    organization_id=org.pk,
                    provider=provider,
                    credential=credential,
                    kind=DOCUMENT_KIND_FOR[gap.kind],
                    original_name=f"{DEMO_FILE_PREFIX}{gap.kind}.pdf",
                    content_type="application/pdf",
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    status=DocumentStatus.ACCEPTED,
                    uploaded_by=member,
                    reviewed_by=member,
                    reviewed_at=timezone.now(),
                    review_note="Demo placeholder.",
                )
                roster_rows_write(documents=[(document, data)])
                events.append(
                    {
                        "action": "roster.document.uploaded",
                        "target": document,
                        "data": {
                            "provider": str(provider.pk),
                            "kind": document.kind,
                            "source": "demo",
                            "sha256": document.sha256,
                        },
                    }
                )
            completed += 1
            if completed >= count:
                break
        if events:
            audit_record_many(org=org, actor=audit_actor(actor), events=events)
    return completed
