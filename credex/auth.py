"""allauth and axes integration."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        return reverse("home")


class MFAAdapter(DefaultMFAAdapter):
    pass


def axes_username(request, credentials) -> str | None:
    """The e-mail being tried, from allauth's form field or the authenticate() kwargs."""
    value = None
    if credentials:
        value = credentials.get("email") or credentials.get("username") or credentials.get("login")
    if not value and request is not None and request.method == "POST":
        value = request.POST.get("login") or request.POST.get("email")
    return (value or "").strip().lower() or None
