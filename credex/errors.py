"""Domain errors. The API's exception handler and the views map them to responses."""

from __future__ import annotations

from django.http import Http404


class DomainError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, details: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code


class InvalidInput(DomainError):
    code = "invalid"
    status = 400


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class NotFound(DomainError, Http404):
    """Also an Http404, so an HTML view that lets it escape answers 404."""

    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class WritesPaused(DomainError):
    """The organization is read-only for billing (trial ended without a card, or past due
    beyond the grace period): 402 on the API, the billing page's message in the browser."""

    code = "billing_past_due"
    status = 402
