"""The clinician's release e-signature page (mounted at /r/), for people without an account.

The signed token in the address is the only credential (the RELEASE spec of credex.links):
`signed_link_view` opens it, answers the refusals (404 never valid, 410 expired, withdrawn or
already signed, 429 past a limit), records the visit and runs the page in the organization's
scope. Signing is recorded with the actor kind `provider_link` and the caller's IP.
"""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from credex.errors import Conflict, InvalidInput
from credex.links import OpenLink, signed_link_view
from exchange.services import releases as services
from exchange.views.release_forms import ReleaseSignForm


def _page(request, opened: OpenLink, *, errors=None, typed=None, status=200, release=None):
    text = services.release_text(org=opened.org, request=opened.row)
    context = {
        "token": opened.token,
        "link": opened.row,
        "link_org": opened.org,
        "provider": opened.row.provider,
        "text": text,
        "text_sha256": services.text_hash(text),
        "errors": errors or {},
        "page_error": (errors or {}).get("__all__", ""),
        "typed": typed or {},
        "release": release,
        "read_only_notice": opened.read_only_notice,  # billing read-only: no signing form
    }
    return render(request, "exchange/releases/public.html", context, status=status)


@csrf_protect
@require_http_methods(["GET", "POST"])
@signed_link_view(services.RELEASE)  # records the visit on GET
def release_public(request, opened: OpenLink):
    if request.method != "POST":
        return _page(request, opened)
    form = ReleaseSignForm(request.POST)
    typed = {"signer_name": form["signer_name"].value() or ""}
    if not form.is_valid():
        errors = {name: str(messages[0]) for name, messages in form.errors.items()}
        return _page(request, opened, errors=errors, typed=typed, status=400)
    try:
        # A link withdrawn or signed meanwhile raises LinkGone: signed_link_view answers 410.
        release = services.release_esign(
            org=opened.org,
            request=opened.row,
            signer_name=form.cleaned_data["signer_name"],
            consent=form.cleaned_data["consent"],
            shown_sha256=form.cleaned_data["text_sha256"],
            ip=request.META.get("REMOTE_ADDR"),
        )
    except (InvalidInput, Conflict) as exc:
        errors = {**(exc.details or {}), "__all__": exc.message}
        return _page(request, opened, errors=errors, typed=typed, status=exc.status)
    return _page(request, opened, release=release)


urlpatterns = [
    path("<str:token>/", release_public, name="release_public"),
]
