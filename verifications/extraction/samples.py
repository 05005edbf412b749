"""Generated credential documents with KNOWN values, for the tests and the benchmark.

Each document is described once as rows of cells (a title, "Label: value" pairs, a header
row over a row of values, a "This is to certify that ..." sentence) and rendered three ways:
a text PDF (WeasyPrint from HTML), a PNG/JPEG image (Pillow, DejaVu fonts, light speckle
noise) and a scanned PDF (the image inside a PDF, no text layer). At least four layouts
per document kind, with label variants and date formats drawn at random from a seed.
"""

# Test data, not secrets: seeded random.Random is what makes the documents reproducible.
# ruff: noqa: S311

from __future__ import annotations

import html
import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
KINDS = ("license", "dea", "cds", "board_cert", "malpractice")
MEDIA = ("text_pdf", "image", "scanned_pdf")

FIRST = ["Jane", "Omar", "Priya", "Daniel", "Maria", "Wei", "Grace", "Samuel", "Elena", "Tomas"]
LAST = ["Smith", "Okafor", "Patel", "Nguyen", "Garcia", "Chen", "Brennan", "Lopez", "Walsh", "Kim"]
MIDDLE = ["A.", "J.", "R.", "", "", "M."]
BOARDS = {
    "TX": "Texas Medical Board",
    "CA": "Medical Board of California",
    "NY": "New York State Board for Medicine",
    "FL": "Florida Board of Medicine",
    "OH": "State Medical Board of Ohio",
    "WA": "Washington Medical Commission",
    "IL": "Illinois Department of Financial and Professional Regulation",
    "PA": "Pennsylvania State Board of Medicine",
}
CITIES = {
    "TX": "Austin",
    "CA": "Sacramento",
    "NY": "Albany",
    "FL": "Tallahassee",
    "OH": "Columbus",
    "WA": "Olympia",
    "IL": "Springfield",
    "PA": "Harrisburg",
}
STATE_NAME = {
    "TX": "Texas",
    "CA": "California",
    "NY": "New York",
    "FL": "Florida",
    "OH": "Ohio",
    "WA": "Washington",
    "IL": "Illinois",
    "PA": "Pennsylvania",
}
SPECIALTY_BOARDS = [
    "American Board of Internal Medicine",
    "American Board of Pediatrics",
    "American Board of Family Medicine",
    "American Osteopathic Board of Surgery",
    "American Board of Anesthesiology",
]
CARRIERS = [
    "Lone Star Mutual Insurance Company",
    "Pacific Physicians Assurance Company",
    "Keystone Medical Liability Insurance Company",
    "Midwest Professional Indemnity Company",
    "Harbor Physicians Reciprocal Insurance Exchange",
]
DATE_FORMATS = [
    lambda d: d.strftime("%m/%d/%Y"),
    lambda d: d.isoformat(),
    lambda d: f"{d:%B} {d.day}, {d.year}",
    lambda d: f"{d.day:02d} {d:%b} {d.year}",
    lambda d: d.strftime("%m-%d-%Y"),
    lambda d: f"{d:%b}. {d.day}, {d.year}",
]
EXPIRY_LABELS = ["Expiration Date", "Expires", "Exp. Date", "Valid Through", "Expiration"]
ISSUE_LABELS = ["Issue Date", "Date Issued", "Issued", "Original Issue Date", "Effective Date"]


@dataclass
class Sample:
    """One generated document and the values printed on it (dates ISO, state as a code)."""

    kind: str
    layout: str
    medium: str
    content_type: str
    data: bytes
    values: dict[str, str]
    rows: list = field(default_factory=list, repr=False)

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.layout}-{self.medium}"


def dea_number(rng: random.Random, last_name: str) -> str:
    """A DEA number with a correct check digit for a registrant called `last_name`."""
    digits = [rng.randint(0, 9) for _ in range(6)]
    check = ((digits[0] + digits[2] + digits[4]) + 2 * (digits[1] + digits[3] + digits[5])) % 10
    return rng.choice("ABFM") + last_name[0].upper() + "".join(map(str, digits)) + str(check)


def _values(kind: str, rng: random.Random) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    middle = rng.choice(MIDDLE)
    state = rng.choice(sorted(BOARDS))
    issue = date(2016, 1, 1) + timedelta(days=rng.randint(0, 3300))
    expiry = issue + timedelta(days=rng.randint(365, 3 * 365))
    if expiry < date(2026, 1, 1):
        expiry = expiry.replace(year=2026 + rng.randint(0, 2))
    values = {
        "name": " ".join(p for p in (first, middle, last) if p),
        "issue_date": issue,
        "expiry_date": expiry,
        "state": state,
        "_last": last,
    }
    if kind == "license":
        values["number"] = rng.choice(
            [f"{rng.choice('ACGMQ')}{rng.randint(10000, 999999)}", f"ME{rng.randint(10000, 99999)}"]
        )
        values["issuer"] = BOARDS[state]
    elif kind == "dea":
        values["number"] = dea_number(rng, last)
        values["issuer"] = "Drug Enforcement Administration"
    elif kind == "cds":
        values["number"] = f"CS{rng.randint(100000, 999999)}"
        values["issuer"] = f"{STATE_NAME[state]} Board of Pharmacy"
    elif kind == "board_cert":
        values["number"] = str(rng.randint(100000, 999999))
        values["issuer"] = rng.choice(SPECIALTY_BOARDS)
        values.pop("state")
    elif kind == "malpractice":
        values["number"] = f"MPL-{rng.randint(2019, 2026)}-{rng.randint(1000, 99999):05d}"
        values["issuer"] = rng.choice(CARRIERS)
        values.pop("state")
    return values


# --- layouts: rows of cells; ("title", text) / ("text", text) / ("pairs", [(label, value)])
# / ("grid", [labels], [values]) ---------------------------------------------------------------
def _layouts(kind: str, v: dict, rng: random.Random, fmt) -> dict[str, tuple[list, set]]:
    """Layout name -> (rows, the fields it prints)."""
    exp_label, iss_label = rng.choice(EXPIRY_LABELS), rng.choice(ISSUE_LABELS)
    num_label = {
        "license": rng.choice(["License No.", "License Number", "Lic. #", "License #"]),
        "dea": rng.choice(["DEA Registration Number", "Registration No.", "DEA #"]),
        "cds": rng.choice(["CDS Registration No.", "Registration Number", "CDS No."]),
        "board_cert": rng.choice(["Certificate No.", "Certificate Number", "Diplomate No."]),
        "malpractice": rng.choice(["Policy Number", "Policy No.", "Policy #"]),
    }[kind]
    name_label = {
        "license": rng.choice(["Licensee", "Name", "Licensee Name"]),
        "dea": rng.choice(["Registrant", "Registrant Name", "Name"]),
        "cds": rng.choice(["Registrant", "Name", "Practitioner"]),
        "board_cert": rng.choice(["Diplomate", "Name"]),
        "malpractice": rng.choice(["Named Insured", "Insured", "Name of Insured"]),
    }[kind]
    title = {
        "license": "Physician and Surgeon License",
        "dea": "Controlled Substance Registration Certificate",
        "cds": "Controlled Substance Registration",
        "board_cert": "Certificate of Board Certification",
        "malpractice": "Certificate of Professional Liability Insurance",
    }[kind]
    issuer = v["issuer"]
    address = (
        f"{rng.randint(10, 9999)} Main Street, {CITIES.get(v.get('state'), 'Dover')}, "
        f"{v.get('state', 'DE')} {rng.randint(10000, 99999)}"
    )
    heads = [("title", issuer), ("title", title)]
    if kind == "dea":
        heads = [
            ("title", "U.S. Department of Justice"),
            ("title", "Drug Enforcement Administration"),
            ("title", title),
        ]
    printed = ("text", f"Printed on {fmt(date(2025, 11, 3))}. Keep this document for your records.")
    state = v.get("state", "")
    state_row = (
        "pairs",
        [("State", STATE_NAME.get(state, state) if rng.random() < 0.5 else state)],
    )
    all_fields = {"name", "number", "issue_date", "expiry_date", "issuer"} | (
        {"state"} if "state" in v else set()
    )
    layouts = {
        "inline": [
            *heads,
            ("pairs", [(name_label, v["name"])]),
            ("pairs", [(num_label, v["number"])]),
            ("pairs", [(iss_label, fmt(v["issue_date"]))]),
            ("pairs", [(exp_label, fmt(v["expiry_date"]))]),
            *([("text", address)] if kind in ("dea", "cds") else []),
            printed,
        ],
        "two_column": [
            *heads,
            ("pairs", [(name_label, v["name"]), (num_label, v["number"])]),
            ("pairs", [(iss_label, fmt(v["issue_date"])), (exp_label, fmt(v["expiry_date"]))]),
            *([state_row] if "state" in v else []),
        ],
        "stacked": [
            *heads,
            ("stack", name_label, v["name"]),
            ("stack", num_label, v["number"]),
            ("stack", exp_label, fmt(v["expiry_date"])),
            ("stack", iss_label, fmt(v["issue_date"])),
            *([("text", address)] if kind in ("dea", "cds") else []),
        ],
        "certify": [
            *heads,
            ("text", "This is to certify that"),
            ("title", v["name"]),
            (
                "text",
                "has met the requirements and is entitled to the privileges of this document.",
            ),
            (
                "grid",
                [num_label, iss_label, exp_label],
                [v["number"], fmt(v["issue_date"]), fmt(v["expiry_date"])],
            ),
            *([state_row] if "state" in v and kind != "dea" else []),
            *([("text", address)] if kind == "dea" else []),
        ],
    }
    if kind == "malpractice":
        layouts["period"] = [
            ("title", issuer),
            ("title", "Declarations Page"),
            ("pairs", [(name_label, v["name"])]),
            ("pairs", [(num_label, v["number"])]),
            ("pairs", [("Policy Period", f"{fmt(v['issue_date'])} to {fmt(v['expiry_date'])}")]),
            ("pairs", [("Limits", "$1,000,000 each claim / $3,000,000 aggregate")]),
            ("text", "Retroactive date: none. Coverage: claims-made."),
        ]
    if kind == "board_cert":
        layouts["since"] = [
            ("title", issuer),
            ("text", "certifies that"),
            ("title", v["name"]),
            ("text", "has fulfilled the requirements and is certified as a Diplomate."),
            ("pairs", [("Certified since", fmt(v["issue_date"]))]),
            ("pairs", [("Certification valid through", fmt(v["expiry_date"]))]),
            ("pairs", [(num_label, v["number"])]),
        ]
    return {name: (rows, all_fields) for name, rows in layouts.items()}


# --- rendering -------------------------------------------------------------------------------
def to_html(rows: list) -> str:
    e = html.escape
    parts = []
    for row in rows:
        kind = row[0]
        if kind == "title":
            parts.append(f"<h1>{e(row[1])}</h1>")
        elif kind == "text":
            parts.append(f"<p>{e(row[1])}</p>")
        elif kind == "pairs":
            cells = "".join(f"<td><b>{e(label)}:</b> {e(value)}</td>" for label, value in row[1])
            parts.append(f"<table><tr>{cells}</tr></table>")
        elif kind == "stack":
            parts.append(
                f"<div class='stack'><small>{e(row[1])}</small><div>{e(row[2])}</div></div>"
            )
        elif kind == "grid":
            head = "".join(f"<th>{e(label)}</th>" for label in row[1])
            cells = "".join(f"<td>{e(value)}</td>" for value in row[2])
            parts.append(f"<table class='grid'><tr>{head}</tr><tr>{cells}</tr></table>")
    css = (
        "@page{size:Letter;margin:2cm} body{font-family:'DejaVu Sans',sans-serif;font-size:11pt}"
        "h1{font-size:15pt;text-align:center;margin:4pt 0} table{width:100%;margin:6pt 0}"
        "td,th{text-align:left;padding:2pt 6pt} .stack{margin:8pt 0} .stack small{color:#444}"
        ".grid th{border-bottom:1px solid #999}"
        ".grid td,.grid th{white-space:nowrap;font-size:9.5pt}"
    )
    return f"<html><head><style>{css}</style></head><body>{''.join(parts)}</body></html>"


def to_text_pdf(rows: list) -> bytes:
    from weasyprint import HTML

    return HTML(string=to_html(rows)).write_pdf()


def to_image(rows: list, rng: random.Random, *, noise: bool = True):
    from PIL import Image, ImageDraw, ImageFont

    width, height = 1700, 2200  # US Letter at 200 dpi
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    regular = ImageFont.truetype(FONT_DIR + "DejaVuSans.ttf", 30)
    bold = ImageFont.truetype(FONT_DIR + "DejaVuSans-Bold.ttf", 38)
    y, left = 160, 150
    for row in rows:
        kind = row[0]
        if kind == "title":
            text_w = draw.textlength(row[1], font=bold)
            draw.text(((width - text_w) / 2, y), row[1], font=bold, fill=0)
            y += 70
        elif kind == "text":
            draw.text((left, y), row[1][:80], font=regular, fill=0)
            y += 55
        elif kind == "pairs":
            x = left
            for label, value in row[1]:
                draw.text((x, y), f"{label}: {value}", font=regular, fill=0)
                x += (width - 2 * left) // len(row[1])
            y += 60
        elif kind == "stack":
            draw.text((left, y), row[1], font=regular, fill=60)
            draw.text((left, y + 42), row[2], font=regular, fill=0)
            y += 110
        elif kind == "grid":
            column = (width - 2 * left) // len(row[1])
            for i, (label, value) in enumerate(zip(row[1], row[2], strict=True)):
                draw.text((left + i * column, y), label, font=regular, fill=0)
                draw.text((left + i * column, y + 50), value, font=regular, fill=0)
            y += 120
    if noise:  # light speckle, like a copier
        pixels = image.load()
        for _ in range(4000):
            pixels[rng.randrange(width), rng.randrange(height)] = rng.choice((0, 120, 200))
    return image


def _image_bytes(image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        image.save(buf, "JPEG", quality=85)
    elif fmt == "PDF":
        image.save(buf, "PDF", resolution=200.0)
    else:
        image.save(buf, "PNG")
    return buf.getvalue()


def render(rows: list, medium: str, rng: random.Random) -> tuple[bytes, str]:
    """(bytes, content type) of the rows as a text PDF, an image or a scanned PDF."""
    if medium == "text_pdf":
        return to_text_pdf(rows), "application/pdf"
    image = to_image(rows, rng)
    if medium == "scanned_pdf":
        return _image_bytes(image, "PDF"), "application/pdf"
    if rng.random() < 0.5:
        return _image_bytes(image, "JPEG"), "image/jpeg"
    return _image_bytes(image, "PNG"), "image/png"


def make_sample(kind: str, *, layout: str | None = None, medium: str = "text_pdf", seed: int = 1):
    """One document of `kind` with known values (layout chosen by the seed unless given)."""
    rng = random.Random(f"{kind}:{layout}:{medium}:{seed}")
    values = _values(kind, rng)
    fmt = rng.choice(DATE_FORMATS)
    layouts = _layouts(kind, values, rng, fmt)
    layout = layout or rng.choice(sorted(layouts))
    rows, printed = layouts[layout]
    data, content_type = render(rows, medium, rng)
    known = {
        k: (v.isoformat() if isinstance(v, date) else str(v))
        for k, v in values.items()
        if k in printed
    }
    return Sample(kind, layout, medium, content_type, data, known, rows)


def layouts_of(kind: str) -> list[str]:
    rng = random.Random(0)
    return sorted(_layouts(kind, _values(kind, rng), rng, DATE_FORMATS[0]))


def generate(count: int, *, media=MEDIA, weights=(0.6, 0.3, 0.1), seed: int = 7) -> list[Sample]:
    """`count` documents over every kind and layout, split across media by `weights`."""
    rng = random.Random(seed)
    plan = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        layouts = layouts_of(kind)
        layout = layouts[(i // len(KINDS)) % len(layouts)]
        medium = rng.choices(media, weights=weights[: len(media)])[0]
        plan.append((kind, layout, medium, seed * 1000 + i))
    return [make_sample(k, layout=lay, medium=m, seed=s) for k, lay, m, s in plan]
