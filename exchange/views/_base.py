"""What every exchange page shares: the operator guard and the not-yet-built placeholder."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse

from credex import capabilities as cap
from credex.views import capability_required


@capability_required(cap.VIEW_EXCHANGE)
def not_built(request, *args, **kwargs):
    # Skeleton only: every area's module replaces this before the exchange ships.
    return HttpResponse("Not built yet.")


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


@operator_required
def operator_not_built(request, *args, **kwargs):
    return HttpResponse("Not built yet.")
