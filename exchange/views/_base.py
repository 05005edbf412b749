"""What the exchange's operator console pages share: the platform-staff guard."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404


def operator_required(view):
    """Operator console pages: platform staff only (`User.is_exchange_operator`). Anyone else
    signed in gets 404 (the console does not exist for them); anonymous goes to sign in."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not getattr(request.user, "is_exchange_operator", False):
            raise Http404
        return view(request, *args, **kwargs)

    wrapped.operator_only = True
    return wrapped
