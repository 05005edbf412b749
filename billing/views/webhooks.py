"""POST /webhooks/stripe: Stripe's webhook events (billing/services/webhooks.py).

The signature is checked on the raw body; a bad or missing signature is a 400 in the error
shape and changes nothing. Each event id is processed once; a duplicate answers 200.
"""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.services.webhooks import MAX_PAYLOAD_BYTES, event_receive
from credex.errors import DomainError


@csrf_exempt
@require_POST
def stripe_webhook(request):
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_PAYLOAD_BYTES:
        return JsonResponse(
            {"code": "too_large", "message": "The webhook body is too large.", "details": {}},
            status=413,
        )
    try:
        result = event_receive(request.body, request.META.get("HTTP_STRIPE_SIGNATURE", ""))
    except DomainError as exc:
        return JsonResponse(
            {"code": exc.code, "message": exc.message, "details": exc.details}, status=exc.status
        )
    return JsonResponse({"received": True, **result})
