"""A Bayeux (CometD long-polling) client for Salesforce's Streaming API, with the replay extension.

Plain `requests`: one session per client keeps Salesforce's `BAYEUX_BROWSER` cookie, which ties the long
polls of one client to one server. The bearer token is the connection's; a 401 refreshes it once through
the connection's token service and retries (`SalesforceAuthError` if the fresh token is refused too).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import requests
from django.views.decorators.debug import sensitive_variables

from integrations.salesforce.errors import (
    SalesforceApiError,
    SalesforceAuthError,
    SalesforceError,
    SalesforceUnavailable,
)
from integrations.services import connection_refresh_access_token

logger = logging.getLogger(__name__)

ALL_CHANGE_EVENTS = "/data/ChangeEvents"
REPLAY_NEW = -1  # only events published after the subscribe
REPLAY_ALL = -2  # every event still retained


class BayeuxError(SalesforceApiError):
    """A Bayeux reply with `successful: false` (`error` is e.g. "403::Unknown client")."""

    def __init__(self, error: str, advice: dict | None = None):
        code, _, message = (error or "").partition("::")
        super().__init__(code or "BAYEUX", message or error, None)
        self.error = error or ""
        self.advice = advice or {}

    @property
    def unknown_client(self) -> bool:
        return self.error.startswith("403::") or self.advice.get("reconnect") == "handshake"

    @property
    def invalid_replay(self) -> bool:
        return "replayId" in self.error and "invalid" in self.error


@dataclass
class ConnectResult:
    events: list[dict] = field(default_factory=list)  # the data messages, in delivery order
    other: list[dict] = field(default_factory=list)  # messages on channels we did not subscribe to
    advice: dict = field(default_factory=dict)


class BayeuxClient:
    def __init__(self, connection, *, timeout_margin: float = 15.0):
        self.connection = connection
        self.session = requests.Session()
        self.client_id: str | None = None
        self.subscriptions: set[str] = set()
        self.advice_timeout = 110.0
        self.timeout_margin = timeout_margin
        self.refreshes = 0
        self._access_token = connection.access_token
        self._message_id = 0

    @property
    def url(self) -> str:
        version = self.connection.api_version or "62.0"
        return f"{self.connection.instance_url.rstrip('/')}/cometd/{version}"

    def close(self) -> None:
        self.session.close()

    def _next_id(self) -> str:
        self._message_id += 1
        return str(self._message_id)

    @sensitive_variables()
    def _post(self, messages: list[dict], *, timeout: float) -> list[dict]:
        for attempt in (1, 2):
            try:
                response = self.session.post(
                    self.url,
                    json=messages,
                    headers={"Authorization": f"Bearer {self._access_token}"},
                    timeout=(10, timeout),
                )
            except requests.RequestException as exc:
                raise SalesforceUnavailable(f"Streaming API unreachable: {type(exc).__name__}") from None
            if response.status_code == 401 and attempt == 1:
                self._refresh()
                continue
            if response.status_code == 401:
                raise SalesforceAuthError("INVALID_SESSION_ID", "Salesforce refused a fresh session", 401)
            if response.status_code >= 500:
                raise SalesforceUnavailable(f"Streaming API answered HTTP {response.status_code}")
            try:
                body = response.json()
            except ValueError:
                raise BayeuxError("400::The Streaming API answered with something not JSON") from None
            if isinstance(body, dict):
                body = [body]
            if not isinstance(body, list) or not all(isinstance(m, dict) for m in body):
                raise BayeuxError("400::The Streaming API answered with something not a message list")
            if response.status_code >= 400:
                first = body[0] if body else {}
                raise BayeuxError(str(first.get("error") or f"{response.status_code}::"), first.get("advice"))
            return body
        raise AssertionError("unreachable")

    def _refresh(self) -> None:
        stale = self._access_token
        self._access_token = connection_refresh_access_token(
            connection=self.connection, stale_access_token=stale
        )
        self.connection.refresh_from_db()
        self.refreshes += 1
        logger.info("Streaming: connection %s refreshed its session", self.connection.pk)

    @staticmethod
    def _reply(body: list[dict], channel: str) -> dict:
        reply = next((m for m in body if m.get("channel") == channel), None)
        if reply is None:
            raise BayeuxError(f"400::No {channel} reply")
        if not reply.get("successful"):
            raise BayeuxError(str(reply.get("error") or "unsuccessful"), reply.get("advice"))
        return reply

    def handshake(self) -> None:
        self.session.cookies.clear()
        body = self._post(
            [
                {
                    "channel": "/meta/handshake",
                    "id": self._next_id(),
                    "version": "1.0",
                    "minimumVersion": "1.0",
                    "supportedConnectionTypes": ["long-polling"],
                    "ext": {"replay": True},
                }
            ],
            timeout=30,
        )
        reply = self._reply(body, "/meta/handshake")
        self.client_id = str(reply.get("clientId") or "")
        if not self.client_id:
            raise BayeuxError("400::Handshake without a clientId")
        timeout = (reply.get("advice") or {}).get("timeout")
        if isinstance(timeout, int | float) and timeout > 0:
            self.advice_timeout = timeout / 1000
        self.subscriptions = set()

    def subscribe(self, channel: str, replay_id: int) -> None:
        body = self._post(
            [
                {
                    "channel": "/meta/subscribe",
                    "id": self._next_id(),
                    "clientId": self.client_id,
                    "subscription": channel,
                    "ext": {"replay": {channel: replay_id}},
                }
            ],
            timeout=30,
        )
        self._reply(body, "/meta/subscribe")
        self.subscriptions.add(channel)

    def connect(self) -> ConnectResult:
        body = self._post(
            [
                {
                    "channel": "/meta/connect",
                    "id": self._next_id(),
                    "clientId": self.client_id,
                    "connectionType": "long-polling",
                }
            ],
            timeout=self.advice_timeout + self.timeout_margin,
        )
        result = ConnectResult()
        for message in body:
            channel = message.get("channel")
            if channel == "/meta/connect":
                if not message.get("successful"):
                    raise BayeuxError(str(message.get("error") or "unsuccessful"), message.get("advice"))
                result.advice = message.get("advice") or {}
            elif channel in self.subscriptions:
                result.events.append(message)
            else:
                result.other.append(message)
        return result

    def disconnect(self) -> None:
        if not self.client_id:
            return
        try:
            self._post(
                [{"channel": "/meta/disconnect", "id": self._next_id(), "clientId": self.client_id}],
                timeout=10,
            )
        except SalesforceError:
            pass  # going away anyway
        self.client_id = None


def parse_event(message: dict) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """(replay id, ChangeEventHeader, payload) of a change event message; ValueError when malformed."""
    data = message.get("data")
    if not isinstance(data, dict):
        raise ValueError("no data")
    event, payload = data.get("event"), data.get("payload")
    if not isinstance(event, dict) or not isinstance(payload, dict):
        raise ValueError("no event or payload")
    replay = event.get("replayId")
    if isinstance(replay, bool) or not isinstance(replay, int):
        raise ValueError("no replayId")
    header = payload.get("ChangeEventHeader")
    if not isinstance(header, dict):
        raise ValueError(f"event {replay} has no ChangeEventHeader")
    ok = (
        isinstance(header.get("entityName"), str)
        and isinstance(header.get("changeType"), str)
        and isinstance(header.get("recordIds", []), list)
        and all(isinstance(i, str) for i in header.get("recordIds", []))
        and isinstance(header.get("changedFields", []), list)
    )
    if not ok:
        raise ValueError(f"event {replay} has a malformed ChangeEventHeader")
    return replay, header, payload
