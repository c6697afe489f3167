"""`/cometd/<version>`: the Streaming API's Bayeux endpoint (see services/streaming.py).

A message array in, a message array out, Bearer (or OAuth) token as on the REST API. An expired or
unknown session is HTTP 401 with `401::Authentication invalid`, during a long poll too. A
`BAYEUX_BROWSER` cookie is set on the handshake, as Salesforce does.
"""

from __future__ import annotations

import logging
import secrets

import orjson
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ..api import bearer_token, current_schema
from ..services import oauth, org, streaming
from ..wire import JSON_TYPE, is_supported_version

logger = logging.getLogger(__name__)


def _json(body, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(body), status=status, content_type=JSON_TYPE)


def _refused(messages: list, status: int, error: str) -> HttpResponse:
    channel = messages[0].get("channel") if messages and isinstance(messages[0], dict) else None
    body = [{"channel": channel, "successful": False, "error": error, "advice": {"reconnect": "none"}}]
    return _json(body, status)


@csrf_exempt
@require_POST
def cometd(request, version):
    org.request_count("cometd")
    if not is_supported_version(version):
        return _json([{"successful": False, "error": "404::Not found"}], 404)
    try:
        body = orjson.loads(request.body or b"null")
    except orjson.JSONDecodeError:
        return _json([{"successful": False, "error": "400::Message is not valid JSON"}], 400)
    messages = body if isinstance(body, list) else [body]
    if not messages or not all(isinstance(m, dict) and isinstance(m.get("channel"), str) for m in messages):
        return _json([{"successful": False, "error": "400::Each message needs a channel"}], 400)

    raw = bearer_token(request)

    def authorized():
        return oauth.access_token_user(raw, org.state()) if raw else None

    token = authorized()
    if token is None:
        return _refused(messages, 401, "401::Authentication invalid")
    schema = current_schema()
    replies: list[dict] = []
    new_cookie = False
    for message in messages:
        channel = message["channel"]
        if channel == "/meta/handshake":
            replies.append(streaming.handshake(message, token.user.user_id))
            new_cookie = True
        elif channel == "/meta/subscribe":
            replies.append(streaming.subscribe(message, schema))
        elif channel == "/meta/unsubscribe":
            replies.append(streaming.unsubscribe(message))
        elif channel == "/meta/disconnect":
            replies.append(streaming.disconnect(message))
        elif channel == "/meta/connect":
            delivered, still = streaming.connect(
                message, schema, still_authorized=lambda: authorized() is not None
            )
            if not still:
                return _refused(messages, 401, "401::Authentication invalid")
            replies.extend(delivered)
        else:
            replies.append(
                {
                    "channel": channel,
                    "id": message.get("id"),
                    "successful": False,
                    "error": "400::Unknown channel",
                }
            )
    response = _json(replies)
    if new_cookie or "BAYEUX_BROWSER" not in request.COOKIES:
        response.set_cookie("BAYEUX_BROWSER", secrets.token_hex(8), httponly=True, samesite="Lax")
    return response
