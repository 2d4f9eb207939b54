"""The gateways' webhook endpoint: verify, then hand to the service. Never a 500 for bad input."""

import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.jsonsafe import JSONRefused, request_body
from config.ratelimit import client_ip, json_429, over_limit

from ..exceptions import InvalidWebhook
from . import get_gateway
from .webhooks import payment_webhook_handle

logger = logging.getLogger(__name__)
MAX_BODY = 256 * 1024


@csrf_exempt  # authenticated by the provider's signature instead
@require_POST
def payment_webhook(request, gateway: str):
    provider = get_gateway(gateway)  # 404 for an unknown gateway
    # Per caller IP and gateway, before the body is read: a 429 records no event and changes no order,
    # and the provider retries later.
    over = over_limit(
        setting="LIVEMARKET_PAYMENT_WEBHOOK_RATE", key=f"pay-hook:{gateway}:{client_ip(request)}"
    )
    if over:
        return json_429(limit=over[0], window=over[1], what="webhooks from this address")
    try:
        body = request_body(request, limit=MAX_BODY)  # by its Content-Length first: never read whole
    except JSONRefused as exc:
        return JsonResponse({"code": exc.code, "message": exc.message}, status=exc.status)
    try:
        event = provider.parse_webhook(body=body, headers=request.headers)
    except InvalidWebhook as exc:
        logger.warning("rejected %s webhook: %s", gateway, exc)
        return JsonResponse({"code": "invalid_signature", "message": str(exc)}, status=400)
    result = payment_webhook_handle(gateway=gateway, event=event)
    return JsonResponse({"received": event.id, "result": result})
