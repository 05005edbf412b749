"""The one door to Stripe.

`client()` is a `stripe.StripeClient` configured from settings (STRIPE_SECRET_KEY, and
STRIPE_API_BASE for the API's address: tests point it at localstripe or at the loopback stub),
or None when no key is set: billing then runs offline and nothing calls out. Every write to
Stripe passes an idempotency key derived from our own ids (`idempotency_key`), so a retried
task or request cannot charge, transfer or change a subscription twice.
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

import stripe
from django.conf import settings

from credex.errors import DomainError

# Stripe's API version the code is written against (pinned, so a dashboard default change in
# the Stripe account does not change payload shapes under us).
API_VERSION = "2024-06-20"
TIMEOUT_SECONDS = 10


def online() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def client() -> stripe.StripeClient | None:
    if not online():
        return None
    base = settings.STRIPE_API_BASE or None
    kwargs = {}
    if base:
        kwargs["base_addresses"] = {"api": base, "connect": base, "files": base}
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        stripe_version=API_VERSION,
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        **kwargs,
    )


# Where Stripe's hosted pages live (Checkout, the customer portal, Connect onboarding). The
# billing page's forms redirect there, so its Content-Security-Policy form-action must allow
# them (browsers enforce form-action on the redirect too).
HOSTED_ORIGINS = (
    "https://checkout.stripe.com",
    "https://billing.stripe.com",
    "https://connect.stripe.com",
)


def hosted_origins() -> list[str]:
    """Stripe's hosted-page origins, and STRIPE_API_BASE's when set (the loopback stand-in in
    tests serves the hosted pages too)."""
    origins = list(HOSTED_ORIGINS)
    base = settings.STRIPE_API_BASE
    if base:
        parts = urlsplit(base)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


def idempotency_key(*parts) -> str:
    """ "credex-" + our ids joined: the same action on the same objects gives the same key."""
    return "credex-" + "-".join(str(p) for p in parts)


class StripeFailed(DomainError):
    """Stripe refused or could not be reached: nothing changed here; the user may retry."""

    status = 502
    code = "payment_provider_error"


@contextlib.contextmanager
def stripe_call(what: str):
    """Turn a Stripe error inside into StripeFailed with a clear message (never a 500). The
    caller's transaction rolls back with it."""
    try:
        yield
    except stripe.StripeError as exc:
        raise StripeFailed(
            f"Stripe could not {what} just now; nothing was changed. Try again in a moment.",
            details={"stripe_error": type(exc).__name__, "http_status": exc.http_status},
        ) from exc
