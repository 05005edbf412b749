"""Browser forms for providers, credentials and requirements: parse and keep what was typed.

Forms only turn the POST into Python values; every rule lives in the services, whose
errors (`InvalidInput.details`) are put back next to the field they name.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms

from credex.errors import DomainError
from credex.forms import CheckboxOn
from roster.models import CredentialKind, CredentialStatus, ProviderStatus
from roster.selectors import providers as provider_selectors
from roster.services.providers import DETAIL_FIELDS, PERIOD_KINDS
from roster.validation import US_STATES
from roster.views.form_fields import MAX_RETURN_QUERY, UUIDListField

# States and DC first, then territories, then the armed-forces codes.
_LATER = {"PR": 1, "VI": 1, "GU": 1, "AS": 1, "MP": 1, "AA": 2, "AE": 2, "AP": 2}
STATE_CHOICES = [(s, s) for s in sorted(US_STATES, key=lambda c: (_LATER.get(c, 0), c))]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _code_token(value: str) -> str:
    """'207R00000X Internal Medicine' -> '207R00000X' (a datalist pick may carry the name)."""
    value = (value or "").strip()
    return value.split()[0].upper() if value else ""


class CodeListWidget(forms.Widget):
    """Several <input name=x> boxes (rendered by the template), read as a list."""

    def value_from_datadict(self, data, files, name):
        if hasattr(data, "getlist"):
            return data.getlist(name)
        value = data.get(name)
        return value if isinstance(value, list) else [value] if value else []


class CodeListField(forms.Field):
    widget = CodeListWidget

    def to_python(self, value):
        return list(dict.fromkeys(c for c in (_code_token(v) for v in value or []) if c))


class ProviderForm(forms.Form):
    # Required unless a legal business name is given (the service says so).
    first_name = forms.CharField(max_length=100, required=False)
    middle_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(
        max_length=100,
        required=False,
        help_text="First and last name are required for a person; an organization gives its "
        "legal business name instead.",
    )
    suffix = forms.CharField(max_length=20, required=False, help_text="e.g. Jr., III")
    former_names = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line (maiden or previous legal names; used for screening).",
    )
    legal_name = forms.CharField(
        label="Legal business name",
        max_length=300,
        required=False,
        help_text="Organizations (group practices, suppliers): screened against the "
        "exclusion lists' business names.",
    )
    dba_name = forms.CharField(
        label="Doing business as (DBA)",
        max_length=300,
        required=False,
        help_text="The trade name, if different.",
    )
    npi = forms.CharField(
        label="NPI",
        max_length=14,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text="10 digits; the last is a check digit.",
    )
    provider_type = forms.ChoiceField(label="Provider type")
    primary_taxonomy = forms.CharField(
        label="Primary taxonomy (specialty)",
        required=False,
        max_length=120,
        help_text="Type a specialty name or code and pick from the NUCC list.",
    )
    taxonomy_codes = CodeListField(label="Other taxonomy codes", required=False)
    practice_states = forms.MultipleChoiceField(
        choices=STATE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    dob = forms.DateField(label="Date of birth", required=False, widget=DATE)
    ssn = forms.CharField(
        label="SSN",
        required=False,
        max_length=11,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=30, required=False)
    address_line1 = forms.CharField(label="Address", max_length=200, required=False)
    address_line2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    city = forms.CharField(max_length=100, required=False)
    state = forms.ChoiceField(choices=[("", "—"), *STATE_CHOICES], required=False)
    postal_code = forms.CharField(label="ZIP code", max_length=10, required=False)
    hire_date = forms.DateField(required=False, widget=DATE)
    status = forms.ChoiceField(choices=ProviderStatus.choices, initial=ProviderStatus.APPLICANT)
    coordinator = forms.ChoiceField(required=False)
    initial_credentialing_date = forms.DateField(required=False, widget=DATE)
    committee_decision_date = forms.DateField(required=False, widget=DATE)
    recredentialing_due_date = forms.DateField(
        label="Re-credentialing due",
        required=False,
        widget=DATE,
        help_text="Leave blank to compute it: committee decision date + the organization's "
        "re-credentialing cycle.",
    )
    caqh_id = forms.CharField(label="CAQH ProView ID", max_length=20, required=False)
    caqh_last_attested = forms.DateField(
        label="Last CAQH attestation",
        required=False,
        widget=DATE,
        help_text="Providers re-attest every 120 days.",
    )

    def __init__(self, *args, provider_types=(), coordinators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider_type"].choices = [("", "Choose a type"), *provider_types]
        self.fields["coordinator"].choices = [("", "Unassigned")] + [
            (str(m.pk), m.user.display_name) for m in coordinators
        ]

    def clean_primary_taxonomy(self):
        return _code_token(self.cleaned_data.get("primary_taxonomy", ""))

    def service_data(self, *, editing: bool) -> dict:
        """Cleaned values in the services' terms. Editing: a blank DOB/SSN keeps what is
        on file (they are never pre-filled), so only typed values are sent."""
        data = dict(self.cleaned_data)
        data.pop("coordinator", None)  # resolved to a Membership by the view
        data["former_names"] = data.get("former_names", "")
        data["primary_taxonomy"] = data.get("primary_taxonomy") or None
        # The primary code leads the list, as the service stores it (no spurious change).
        codes = data.get("taxonomy_codes") or []
        if data["primary_taxonomy"]:
            codes = [data["primary_taxonomy"], *(c for c in codes if c != data["primary_taxonomy"])]
        data["taxonomy_codes"] = codes
        if editing:
            for name in ("dob", "ssn"):
                if not data.get(name):
                    data.pop(name, None)
        return data


def mark_invalid(form: forms.Form) -> None:
    """aria-invalid and aria-describedby on the inputs of fields with errors."""
    if not form.is_bound:
        return
    for name in form.errors:
        if name in form.fields:
            attrs = form.fields[name].widget.attrs
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = f"{form[name].auto_id}_error"


def add_service_errors(form: forms.Form, exc: DomainError) -> None:
    """Put a service's field errors next to their fields; the rest at the top."""
    details = exc.details or {}
    placed = False
    for name, message in details.items():
        text = str(message)
        if not text.rstrip().endswith((".", "!", "?")):
            text = exc.message  # a code such as "duplicate": the sentence says more
        if name in form.fields:
            form.add_error(name, text)
            placed = True
        elif name == "details":
            form.add_error(None, text)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


# --- credentials ------------------------------------------------------------------------------
def parse_dollars_to_cents(raw: str) -> int | None:
    """'1,000,000' / '$1000000.00' -> 100000000 cents; blank -> None; ValueError otherwise."""
    text = (raw or "").strip().replace(",", "").replace("$", "").replace(" ", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError("Enter an amount in dollars, e.g. 1,000,000.")
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError("Enter a positive amount with at most two decimals.")
    return int(amount * 100)


def cents_to_dollars(cents) -> str:
    if cents in (None, ""):
        return ""
    whole, part = divmod(int(cents), 100)
    return f"{whole:,}" if not part else f"{whole:,}.{part:02d}"


# Form field -> (details key, label) per kind. Money fields are typed in dollars.
DETAIL_FORM_FIELDS: dict[str, list[tuple[str, str, str]]] = {
    CredentialKind.MALPRACTICE: [
        ("carrier", "carrier", "Carrier"),
        ("policy_number", "policy_number", "Policy number"),
        ("per_claim", "per_claim_cents", "Per-claim limit (USD)"),
        ("aggregate", "aggregate_cents", "Aggregate limit (USD)"),
    ],
    CredentialKind.BOARD_CERT: [
        ("board", "board", "Certifying board"),
        ("specialty", "specialty", "Specialty"),
    ],
    CredentialKind.EDUCATION: [
        ("institution", "institution", "Institution"),
        ("degree", "degree", "Degree"),
    ],
    CredentialKind.TRAINING: [
        ("institution", "institution", "Institution"),
        ("program", "program", "Program (residency / fellowship)"),
    ],
    CredentialKind.WORK_HISTORY: [
        ("employer", "employer", "Employer"),
        ("position", "position", "Position"),
    ],
    CredentialKind.PRIVILEGES: [("facility", "facility", "Facility")],
    CredentialKind.LIFE_SUPPORT: [
        ("certification", "certification", "Certification (BLS, ACLS, PALS, NRP...)")
    ],
}
MONEY_FIELDS = {"per_claim", "aggregate"}
assert all(  # noqa: S101 - the two tables must agree
    {key for _, key, _ in fields} <= set(DETAIL_FIELDS[kind])
    for kind, fields in DETAIL_FORM_FIELDS.items()
)


class CredentialForm(forms.Form):
    kind = forms.ChoiceField(label="Type", choices=CredentialKind.choices)
    number = forms.CharField(max_length=60, required=False)
    issuer = forms.CharField(label="Issuing authority", max_length=200, required=False)
    state = forms.ChoiceField(choices=[("", "—"), *STATE_CHOICES], required=False)
    issue_date = forms.DateField(required=False, widget=DATE)
    expiry_date = forms.DateField(required=False, widget=DATE)
    start_date = forms.DateField(label="Start", required=False, widget=DATE)
    end_date = forms.DateField(
        label="End", required=False, widget=DATE, help_text="Blank if it continues."
    )
    status = forms.ChoiceField(choices=CredentialStatus.choices, initial=CredentialStatus.ACTIVE)
    # kind-specific details
    carrier = forms.CharField(max_length=200, required=False)
    policy_number = forms.CharField(max_length=60, required=False)
    per_claim = forms.CharField(max_length=20, required=False)
    aggregate = forms.CharField(max_length=20, required=False)
    board = forms.CharField(max_length=200, required=False)
    specialty = forms.CharField(max_length=200, required=False)
    institution = forms.CharField(max_length=200, required=False)
    degree = forms.CharField(max_length=100, required=False)
    program = forms.CharField(max_length=200, required=False)
    employer = forms.CharField(max_length=200, required=False)
    position = forms.CharField(max_length=200, required=False)
    facility = forms.CharField(max_length=200, required=False)
    certification = forms.CharField(max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind_fields in DETAIL_FORM_FIELDS.values():
            for name, _, label in kind_fields:
                self.fields[name].label = label
        for name, example in (("per_claim", "1,000,000"), ("aggregate", "3,000,000")):
            self.fields[name].widget.attrs.update(inputmode="decimal", placeholder=example)

    @property
    def kind_value(self) -> str:
        value = self["kind"].value() or CredentialKind.STATE_LICENSE
        return value if value in CredentialKind.values else CredentialKind.STATE_LICENSE

    @property
    def is_period(self) -> bool:
        return self.kind_value in PERIOD_KINDS

    def common_fields(self):
        names = (
            ["start_date", "end_date", "status"]
            if self.is_period
            else ["number", "issuer", "state", "issue_date", "expiry_date", "status"]
        )
        return [self[n] for n in names]

    def detail_fields(self):
        return [self[name] for name, _, _ in DETAIL_FORM_FIELDS.get(self.kind_value, [])]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        for name in MONEY_FIELDS:
            if kind == CredentialKind.MALPRACTICE:
                try:
                    data[name] = parse_dollars_to_cents(self.data.get(name, ""))
                except ValueError as exc:
                    self.add_error(name, str(exc))
        return data

    def service_data(self, *, previous_details: dict | None = None) -> dict:
        """The credential in the services' terms (details built for the chosen kind)."""
        d = self.cleaned_data
        kind = d["kind"]
        data = {"kind": kind, "status": d["status"]}
        if kind in PERIOD_KINDS:
            data.update(start_date=d.get("start_date"), end_date=d.get("end_date"))
        else:
            data.update(
                number=d.get("number", ""),
                issuer=d.get("issuer", ""),
                state=d.get("state", ""),
                issue_date=d.get("issue_date"),
                expiry_date=d.get("expiry_date"),
            )
        details = dict(previous_details or {})
        for name, key, _ in DETAIL_FORM_FIELDS.get(kind, []):
            value = d.get(name)
            if value in (None, ""):
                details.pop(key, None)
            else:
                details[key] = value
        data["details"] = details
        return data


def credential_initial(credential) -> dict:
    """Form values for editing a credential (money back in dollars)."""
    initial = {
        name: getattr(credential, name)
        for name in (
            "kind",
            "number",
            "issuer",
            "state",
            "issue_date",
            "expiry_date",
            "start_date",
            "end_date",
            "status",
        )
    }
    details = credential.details or {}
    for name, key, _ in DETAIL_FORM_FIELDS.get(credential.kind, []):
        value = details.get(key, "")
        initial[name] = cents_to_dollars(value) if name in MONEY_FIELDS else value
    return initial


class CustomTypeForm(forms.Form):
    code = forms.CharField(max_length=20, help_text="e.g. RN, LAC, BCBA")
    name = forms.CharField(max_length=100, help_text="e.g. Registered nurse")


class BulkAssignForm(forms.Form):
    """The worklist's bulk bar: the ticked providers and the coordinator to assign."""

    # The worklist's own query string, to go back to the same filters (else none).
    return_query = forms.CharField(required=False, strip=False)
    provider = UUIDListField(required=False)
    coordinator = forms.CharField(required=False)

    def __init__(self, data, *, org):
        super().__init__(data)
        self.org = org

    def clean_return_query(self):
        query = self.cleaned_data["return_query"]
        return query if query.startswith("?") and len(query) <= MAX_RETURN_QUERY else ""

    def clean_coordinator(self):
        choice = self.cleaned_data["coordinator"]
        if choice == "none":
            return None
        coordinator = provider_selectors.coordinator_get(org=self.org, membership_id=choice)
        if coordinator is None:
            raise forms.ValidationError("Choose a coordinator to assign.")
        return coordinator


class RevealForm(forms.Form):
    """Which protected field to show and why; the service knows which fields are protected."""

    field = forms.CharField(required=False)
    reason = forms.CharField(required=False)


class RequirementsForm(forms.Form):
    """The requirements page's POST: "recommended" applies the defaults, else a custom type."""

    action = forms.CharField(required=False)


class RequirementsTypeForm(forms.Form):
    """One provider type's requirements: per credential kind, required, and with a document."""

    def __init__(self, data):
        super().__init__(data)
        for kind in CredentialKind.values:
            self.fields[f"req_{kind}"] = forms.BooleanField(required=False, widget=CheckboxOn)
            self.fields[f"doc_{kind}"] = forms.BooleanField(required=False, widget=CheckboxOn)

    def chosen(self) -> dict[str, bool]:
        """{kind: document required} for every ticked kind."""
        data = self.cleaned_data
        return {k: data[f"doc_{k}"] for k in CredentialKind.values if data[f"req_{k}"]}
