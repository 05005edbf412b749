"""Screenshots of CredEx pages at desktop and phone widths, for looking at before merging.

Drives the system Chromium (Debian's /usr/bin/chromium) with Playwright for Python, signs in
as a given user through the real sign-in form, visits pages and saves PNGs (1366x768 and
390x844, full page) to screenshots/ (git-ignored).

Serve the app first, e.g.:
    ACCOUNT_EMAIL_VERIFICATION=optional DJANGO_DEBUG=1 \
        .venv/bin/python manage.py runserver 127.0.0.1:8011 --noreload

Then:
    .venv/bin/python scripts/screenshots.py --base-url http://127.0.0.1:8011 \
        --user owner@riverbend.example --page dashboard=/o/riverbend/ \
        --page members=/o/riverbend/settings/members/
    .venv/bin/python scripts/screenshots.py --base-url http://127.0.0.1:8011 --tour
        # the built-in tour over the demo logins (manage.py seed_demo); note that it
        # creates one API key named "Screenshot key" in the demo organization.

A page is NAME=PATH. A tour step may also fill and submit a form first (see TOUR).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}
DEMO_PASSWORD = "credex-demo-2026"


@dataclass
class Shot:
    """A page to capture: go to `path`, then run `steps` (fill/select/click) before shooting."""

    name: str
    path: str
    steps: list[tuple] = field(default_factory=list)


@dataclass
class Visit:
    user: str | None  # None: signed out
    shots: list[Shot]


RB = "/o/riverbend"
TOUR = [
    Visit(
        None,
        [
            Shot("login", "/accounts/login/"),
            Shot(
                "login-error",
                "/accounts/login/",
                [
                    ("fill", "input[name=login]", "nobody@riverbend.example"),
                    ("fill", "input[name=password]", "wrong-password"),
                    ("click", "form button[type=submit]"),
                ],
            ),
            Shot("signup", "/accounts/signup/"),
            Shot("password-reset", "/accounts/password/reset/"),
            Shot("invitation-invalid", "/invitations/not-a-real-token/"),
        ],
    ),
    Visit(
        "ivy@independent.example",
        [
            Shot("home-ivy", "/"),
        ],
    ),
    Visit(
        "owner@riverbend.example",
        [
            Shot("dashboard", f"{RB}/"),
            Shot("dashboard-menu", f"{RB}/", [("click", ".switcher > summary")]),
            Shot("settings-owner", f"{RB}/settings/"),
            Shot("members-owner", f"{RB}/settings/members/"),
            Shot(
                "members-invite-error",
                f"{RB}/settings/members/",
                [
                    ("fill", "#id_invite_email", "not-an-email"),
                    ("select", "#id_invite_role", "auditor"),
                    ("click", "#invite button[type=submit]"),
                ],
            ),
            Shot(
                "api-keys-new",
                f"{RB}/settings/api-keys/",
                [
                    ("fill", "#id_key_name", "Screenshot key"),
                    ("click", "form.form-row button[type=submit]"),
                ],
            ),
            Shot("audit-owner", f"{RB}/audit/"),
            Shot("mfa-index", "/accounts/2fa/"),
            Shot("password-change", "/accounts/password/change/"),
            Shot("not-found", "/o/nope/"),
        ],
    ),
    Visit(
        "auditor@riverbend.example",
        [
            Shot("settings-auditor", f"{RB}/settings/"),
            Shot("audit-filtered", f"{RB}/audit/?action=member"),
            Shot("audit-bad-dates", f"{RB}/audit/?date_from=2026-12-01&date_to=2026-01-01"),
            Shot("forbidden", f"{RB}/settings/api-keys/"),
        ],
    ),
]


# Elements that stick out past the right edge (tables scroll inside .table-wrap instead).
OVERFLOW_JS = """(width) => {
  if (document.documentElement.scrollWidth <= width) return "";
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    const hidden = el.closest("details:not([open]) > :not(summary)");
    if (r.right > width + 1 && !el.closest(".table-wrap") && !hidden) {
      const cls = el.className ? "." + String(el.className).split(" ")[0] : "";
      out.push(el.tagName.toLowerCase() + cls + "@" + Math.round(r.right));
    }
    if (out.length >= 5) break;
  }
  return document.documentElement.scrollWidth + "px: " + out.join(", ");
}"""


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    if "/accounts/login/" in page.url:
        raise SystemExit(f"Could not sign in as {email} (still on {page.url}).")


def run_steps(page: Page, steps: list[tuple]) -> None:
    for action, selector, *rest in steps:
        if action == "fill":
            page.fill(selector, rest[0])
        elif action == "select":
            page.select_option(selector, rest[0])
        elif action == "click":
            page.click(selector)
            page.wait_for_load_state("networkidle")
        else:
            raise ValueError(f"unknown step {action!r}")


def capture(page: Page, base_url: str, shot: Shot, out: Path, prefix: str) -> list[Path]:
    """Both widths of one page; form steps run once, then the viewport changes."""
    width, height = SIZES["desktop"]
    page.set_viewport_size({"width": width, "height": height})
    response = page.goto(f"{base_url}{shot.path}")
    status = response.status if response else "?"
    run_steps(page, shot.steps)
    page.wait_for_load_state("networkidle")
    saved = []
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        # Full-page shots of a scrolled page (e.g. after a #fragment) misplace sticky bars.
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(150)
        overflow = page.evaluate(OVERFLOW_JS, width)
        if overflow:
            print(f"  ! {shot.name} at {width}px: wider than the viewport: {overflow}")
        path = out / f"{prefix}{shot.name}-{label}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    print(f"{status} {shot.path:<60} -> {', '.join(p.name for p in saved)}")
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--user", help="e-mail to sign in with (omit to stay signed out)")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--page", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--tour", action="store_true", help="run the built-in tour (demo data)")
    parser.add_argument("--only", default="", help="with --tour: comma-separated shot names")
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    parser.add_argument("--prefix", default="")
    args = parser.parse_args(argv)

    base_url = args.base_url.rstrip("/")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    visits: list[Visit] = []
    if args.page:
        shots = []
        for spec in args.page:
            name, sep, path = spec.partition("=")
            if not sep:
                name, path = spec.strip("/").replace("/", "-") or "root", spec
            shots.append(Shot(name, path))
        visits.append(Visit(args.user, shots))
    if args.tour:
        wanted = {n for n in args.only.split(",") if n}
        for visit in TOUR:
            shots = [s for s in visit.shots if not wanted or s.name in wanted]
            if shots:
                visits.append(Visit(visit.user, shots))
    if not visits:
        parser.error("give --page NAME=PATH (one or more) or --tour")

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for visit in visits:
                context = browser.new_context(device_scale_factor=1)
                page = context.new_page()
                if visit.user:
                    sign_in(page, base_url, visit.user, args.password)
                for shot in visit.shots:
                    capture(page, base_url, shot, out, args.prefix)
                context.close()
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
