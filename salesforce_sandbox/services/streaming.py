"""The Streaming API's Bayeux protocol (CometD long polling) over the org's change events.

Clients live in the database (`StreamingClient`), so a handshake, its subscribes and its long polls may
land on any gunicorn worker or thread. A `/meta/connect` never holds a transaction: it reads the event
table in autocommit with short sleeps until an event is there or the advice timeout passes. A client that
has not polled for `SANDBOX_COMETD_CLIENT_TIMEOUT_SECONDS` is forgotten (`403::Unknown client`), as
Salesforce forgets one about 40 seconds after its last connect.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time

import orjson
from django.conf import settings
from django.db.models import Q

from ..models import ChangeEvent, StreamingClient
from ..routers import db
from ..wire import now
from . import change_events, org

MAX_EVENTS_PER_CONNECT = 1000
INVALID_REPLAY = (
    "400::The replayId {{{replay}}} you provided was invalid.  Please provide a valid ID, -2 to replay all "
    "events, or -1 to replay only new events."
)


def advice_timeout_ms() -> int:
    return int(getattr(settings, "SANDBOX_COMETD_TIMEOUT_SECONDS", 110) * 1000)


def client_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "SANDBOX_COMETD_CLIENT_TIMEOUT_SECONDS", 40))


def _poll_interval() -> float:
    return getattr(settings, "SANDBOX_COMETD_POLL_MS", 50) / 1000


def _reply(message: dict, **fields) -> dict:
    body = {"channel": message.get("channel")}
    if message.get("id") is not None:
        body["id"] = message["id"]
    if message.get("clientId"):
        body["clientId"] = message["clientId"]
    body.update(fields)
    return body


def _unknown_client(message: dict) -> dict:
    return _reply(
        message,
        successful=False,
        error="403::Unknown client",
        advice={"reconnect": "handshake", "interval": 0},
    )


def _live_client(client_id) -> StreamingClient | None:
    if not isinstance(client_id, str) or not client_id:
        return None
    client = StreamingClient.objects.using(db()).filter(client_id=client_id).first()
    if client is None:
        return None
    moment = now()
    waiting = client.connected_until is not None and client.connected_until > moment
    if not waiting and client.last_seen_at + client_timeout() < moment:
        client.delete(using=db())
        return None
    return client


def handshake(message: dict, user_id: str) -> dict:
    moment = now()
    # Forget clients long gone and events past retention now and then (cheap, indexed).
    StreamingClient.objects.using(db()).filter(
        last_seen_at__lt=moment - client_timeout() * 10, connected_until__isnull=True
    ).delete()
    change_events.prune(moment)
    client = StreamingClient.objects.using(db()).create(
        client_id=secrets.token_urlsafe(24), user_id=user_id, created_at=moment, last_seen_at=moment
    )
    return _reply(
        message,
        clientId=client.client_id,
        version="1.0",
        minimumVersion="1.0",
        supportedConnectionTypes=["long-polling"],
        successful=True,
        advice={"interval": 0, "timeout": advice_timeout_ms(), "reconnect": "retry"},
        ext={"replay": True, "payload.format": True},
    )


def _channel_objects(channel: str, emitting: list[str]) -> list[str] | None:
    """The objects a channel carries, or None when there is no such channel in this org."""
    if channel == change_events.ALL_CHANNEL:
        return emitting
    sobject = change_events.object_of(channel)
    return [sobject] if sobject in emitting else None


def subscribe(message: dict, schema) -> dict:
    client = _live_client(message.get("clientId"))
    if client is None:
        return _unknown_client(message)
    channel = message.get("subscription")
    if not isinstance(channel, str) or _channel_objects(channel, change_events.emitting(schema)) is None:
        return _reply(
            message,
            subscription=channel,
            successful=False,
            error=f"400::The channel you requested to subscribe to does not exist {{{channel}}}",
        )
    replays = ((message.get("ext") or {}).get("replay") or {}) if isinstance(message.get("ext"), dict) else {}
    replay = replays.get(channel, -1) if isinstance(replays, dict) else -1
    forgotten = org.state().events_forgotten_through
    if isinstance(replay, bool) or not isinstance(replay, int) or replay < -2:
        return _reply(
            message, subscription=channel, successful=False, error=INVALID_REPLAY.format(replay=replay)
        )
    if replay == -1:
        cursor = change_events.last_replay_id()
    elif replay == -2:
        cursor = forgotten
    elif replay < forgotten or replay > change_events.last_replay_id():
        return _reply(
            message, subscription=channel, successful=False, error=INVALID_REPLAY.format(replay=replay)
        )
    else:
        cursor = replay
    subscriptions = orjson.loads(client.subscriptions)
    subscriptions[channel] = cursor
    StreamingClient.objects.using(db()).filter(pk=client.pk).update(
        subscriptions=orjson.dumps(subscriptions).decode(), last_seen_at=now()
    )
    return _reply(message, subscription=channel, successful=True)


def unsubscribe(message: dict) -> dict:
    client = _live_client(message.get("clientId"))
    if client is None:
        return _unknown_client(message)
    channel = message.get("subscription")
    subscriptions = orjson.loads(client.subscriptions)
    subscriptions.pop(channel, None)
    StreamingClient.objects.using(db()).filter(pk=client.pk).update(
        subscriptions=orjson.dumps(subscriptions).decode(), last_seen_at=now()
    )
    return _reply(message, subscription=channel, successful=True)


def disconnect(message: dict) -> dict:
    client = _live_client(message.get("clientId"))
    if client is None:
        return _unknown_client(message)
    client.delete(using=db())
    return _reply(message, successful=True)


def _schema_id(sobject: str) -> str:
    return hashlib.sha256(sobject.encode()).hexdigest()[:22]


def _pending(subscriptions: dict[str, int], emitting: list[str]) -> list[dict]:
    """Events after each subscription's cursor, as Bayeux messages, oldest first."""
    wanted = Q()
    for channel, cursor in subscriptions.items():
        objects = _channel_objects(channel, emitting) or []
        if objects:
            wanted |= Q(replay_id__gt=cursor, sobject__in=objects)
    if not wanted:
        return []
    rows = list(
        ChangeEvent.objects.using(db())
        .filter(wanted)
        .order_by("replay_id")
        .values_list("replay_id", "sobject", "payload")[:MAX_EVENTS_PER_CONNECT]
    )
    messages = []
    for replay_id, sobject, payload in rows:
        for channel, cursor in subscriptions.items():
            objects = _channel_objects(channel, emitting) or []
            if replay_id > cursor and sobject in objects:
                messages.append(
                    {
                        "channel": channel,
                        "data": {
                            "schema": _schema_id(sobject),
                            "payload": orjson.loads(payload),
                            "event": {"replayId": replay_id},
                        },
                    }
                )
    return messages


def connect(message: dict, schema, *, still_authorized) -> tuple[list[dict], bool]:
    """One long poll: (messages, authorized). Waits up to the advice timeout for events; gives up early
    with authorized=False when the session expires meanwhile."""
    client = _live_client(message.get("clientId"))
    if client is None:
        return [_unknown_client(message)], True
    asked = (message.get("advice") or {}).get("timeout") if isinstance(message.get("advice"), dict) else None
    wait_ms = advice_timeout_ms() if not isinstance(asked, int) or isinstance(asked, bool) else asked
    wait = min(max(wait_ms, 0), advice_timeout_ms()) / 1000
    deadline = time.monotonic() + wait
    StreamingClient.objects.using(db()).filter(pk=client.pk).update(
        connected_until=now() + dt.timedelta(seconds=wait + 5)
    )
    subscriptions = orjson.loads(client.subscriptions)
    emitting = change_events.emitting(schema)
    events: list[dict] = []
    authorized = True
    checked = time.monotonic()
    while True:
        events = _pending(subscriptions, emitting)
        if events or time.monotonic() >= deadline:
            break
        if time.monotonic() - checked > 5:
            checked = time.monotonic()
            if not still_authorized():
                authorized = False
                break
            if not StreamingClient.objects.using(db()).filter(pk=client.pk).exists():
                break  # disconnected meanwhile
        time.sleep(_poll_interval())
    for event in events:
        channel = event["channel"]
        subscriptions[channel] = max(subscriptions.get(channel, 0), event["data"]["event"]["replayId"])
    StreamingClient.objects.using(db()).filter(pk=client.pk).update(
        subscriptions=orjson.dumps(subscriptions).decode(), last_seen_at=now(), connected_until=None
    )
    if not authorized:
        return [], False
    reply = _reply(
        message, successful=True, advice={"reconnect": "retry", "interval": 0, "timeout": advice_timeout_ms()}
    )
    return [*events, reply], True
