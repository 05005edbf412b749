"""What every signed link for people without an account shares (provider upload links, payer
package shares): an hourly request counter and the private response headers."""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone


def hourly_limit_exceeded(key: str, limit: int) -> bool:
    """Count one request under `key` in the current hour; True once past `limit`."""
    key = f"credex:{key}:{int(timezone.now().timestamp() // 3600)}"
    cache.add(key, 0, timeout=3700)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3700)
        count = 1
    return count > limit


def private_link_response(response):
    """Headers for a page whose address carries the token: not cached, not indexed, and the
    token never leaves this site in a Referer header. (Not "no-referrer": browsers then send
    "Origin: null" on the form posts and CSRF fails.)"""
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    return response
