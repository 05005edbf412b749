"""Document extraction on generated documents with known values.

Generates text PDFs (WeasyPrint), rendered images (Pillow; PNG and JPEG, light noise) and
scanned PDFs (an image in a PDF, no text layer) over every credential document kind and
layout (verifications/extraction/samples.py), runs the extractor registry on each, and prints
per-field precision and recall for text PDFs, OCR (images and scans) and overall, plus
documents per second. The issue's aim: 95% precision on expiration dates from text PDFs.

A value counts as right when it equals the printed one (names and issuers compared without
case or punctuation, numbers without separators). A wrong value is a false positive and a
false negative; a missing value is a false negative only. No database is used.

    .venv/bin/python benchmarks/bench_extraction.py [--text 40] [--images 20] [--scanned 8]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credex.settings")

import django  # noqa: E402

django.setup()

from verifications.extraction import samples  # noqa: E402
from verifications.extraction.base import FIELD_NAMES  # noqa: E402
from verifications.extraction.ocr import ocr_available  # noqa: E402
from verifications.extraction.registry import run_extractors  # noqa: E402

TARGET_EXPIRY_PRECISION = 0.95


def normal(field: str, value: str) -> str:
    value = (value or "").strip()
    if field in ("name", "issuer"):
        return " ".join(re.findall(r"[a-z0-9]+", value.lower()))
    if field == "number":
        return re.sub(r"[^A-Z0-9]", "", value.upper())
    return value


def plan(args) -> list[tuple[str, str, str, int]]:
    """(kind, layout, medium, seed) spread over every kind and layout."""
    rng = random.Random(args.seed)
    out = []
    for medium, count in (
        ("text_pdf", args.text),
        ("image", args.images),
        ("scanned_pdf", args.scanned),
    ):
        for i in range(count):
            kind = samples.KINDS[i % len(samples.KINDS)]
            layouts = samples.layouts_of(kind)
            layout = layouts[(i // len(samples.KINDS)) % len(layouts)]
            out.append((kind, layout, medium, rng.randrange(1_000_000)))
    return out


class Tally:
    def __init__(self):
        self.tp = defaultdict(int)
        self.fp = defaultdict(int)
        self.fn = defaultdict(int)
        self.docs = 0
        self.perfect = 0
        self.seconds = 0.0

    def add(self, expected: dict, got: dict, seconds: float) -> list[str]:
        self.docs += 1
        self.seconds += seconds
        wrong = []
        for field in FIELD_NAMES:
            want, have = expected.get(field), got.get(field)
            if have is not None and want is not None and normal(field, have) == normal(field, want):
                self.tp[field] += 1
                continue
            if have is not None:
                self.fp[field] += 1
            if want is not None:
                self.fn[field] += 1
            if have is not None or want is not None:
                wrong.append(f"{field}: want {want!r} got {have!r}")
        self.perfect += not wrong
        return wrong

    def merge(self, other: Tally) -> None:
        for name in ("tp", "fp", "fn"):
            for field, n in getattr(other, name).items():
                getattr(self, name)[field] += n
        self.docs += other.docs
        self.perfect += other.perfect
        self.seconds += other.seconds

    def precision(self, field: str) -> float | None:
        n = self.tp[field] + self.fp[field]
        return self.tp[field] / n if n else None

    def recall(self, field: str) -> float | None:
        n = self.tp[field] + self.fn[field]
        return self.tp[field] / n if n else None


def pct(value: float | None) -> str:
    return "   —  " if value is None else f"{value * 100:5.1f}%"


def report(title: str, tally: Tally) -> None:
    if not tally.docs:
        return
    rate = tally.docs / tally.seconds if tally.seconds else 0.0
    print(
        f"\n{title}: {tally.docs} documents, {tally.perfect} read perfectly, "
        f"{rate:.1f} docs/s ({tally.seconds:.1f} s extracting)"
    )
    print(f"  {'field':<12} {'precision':>9} {'recall':>8} {'tp':>4} {'fp':>4} {'fn':>4}")
    for field in FIELD_NAMES:
        print(
            f"  {field:<12} {pct(tally.precision(field)):>9} {pct(tally.recall(field)):>8} "
            f"{tally.tp[field]:>4} {tally.fp[field]:>4} {tally.fn[field]:>4}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text", type=int, default=40, help="text PDFs")
    parser.add_argument("--images", type=int, default=20, help="PNG/JPEG images (OCR)")
    parser.add_argument("--scanned", type=int, default=8, help="scanned PDFs (OCR)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    args = parser.parse_args()
    if not ocr_available():
        print("tesseract is not available: images and scans are skipped (OCR unavailable)")
        args.images = args.scanned = 0

    started = time.perf_counter()
    docs = [
        samples.make_sample(kind, layout=layout, medium=medium, seed=seed)
        for kind, layout, medium, seed in plan(args)
    ]
    generated = time.perf_counter() - started
    layouts = {(d.kind, d.layout) for d in docs}
    print(
        f"generated {len(docs)} documents ({len(layouts)} kind/layout combinations) "
        f"in {generated:.1f} s"
    )

    tallies = {"text_pdf": Tally(), "image": Tally(), "scanned_pdf": Tally()}
    engines = defaultdict(int)
    for doc in docs:
        t0 = time.perf_counter()
        label, output = run_extractors(doc.data, doc.content_type, doc.kind)
        seconds = time.perf_counter() - t0
        engines[f"{doc.medium} -> {output.engine}"] += 1
        got = {name: value.value for name, value in output.fields.items()}
        wrong = tallies[doc.medium].add(doc.values, got, seconds)
        if wrong and args.verbose:
            print(f"  miss {doc.name} ({label}): " + "; ".join(wrong))

    print("engines used: " + ", ".join(f"{k}: {v}" for k, v in sorted(engines.items())))
    ocr = Tally()
    ocr.merge(tallies["image"])
    ocr.merge(tallies["scanned_pdf"])
    overall = Tally()
    for tally in tallies.values():
        overall.merge(tally)
    report("Text PDFs (text layer)", tallies["text_pdf"])
    report("Images and scanned PDFs (OCR)", ocr)
    report("Overall", overall)

    precision = tallies["text_pdf"].precision("expiry_date")
    verdict = "met" if precision is not None and precision >= TARGET_EXPIRY_PRECISION else "MISSED"
    print(
        f"\nexpiration-date precision on text PDFs: {pct(precision).strip()} "
        f"(aim {TARGET_EXPIRY_PRECISION:.0%}: {verdict})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
