"""The sandbox org streams Change Data Capture events over Bayeux (CometD long polling) like Salesforce:
handshake, subscribe with the replay extension, long-poll connect, disconnect, 401 on an expired session,
`403::Unknown client` after the client timeout, replay ids, retention, gap events, per-org objects."""

from __future__ import annotations

import time

import pytest

V = "/services/data/v62.0"


@pytest.fixture(scope="module")
def org(tmp_path_factory, _sandbox_templates):
    from tests.sandbox_org import _launch

    # Short long-polls keep the tests quick; the client timeout stays long enough for a loaded machine
    # (the test that checks it moves the org's clock past it).
    env = {"SANDBOX_COMETD_TIMEOUT_SECONDS": "2", "SANDBOX_COMETD_CLIENT_TIMEOUT_SECONDS": "30"}
    org = _launch(tmp_path_factory, _sandbox_templates, contacts=30, seed=1, https=False, env=env)
    yield org
    org.stop()


class Bayeux:
    """A minimal Bayeux client speaking to the org over real HTTP (what the tests assert against)."""

    def __init__(self, org, token: str):
        self.http = org.session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.url = f"{org.url}/cometd/62.0"
        self.client_id = None

    def send(self, *messages):
        response = self.http.post(self.url, json=list(messages), timeout=30)
        return response.status_code, response.json()

    def handshake(self):
        status, body = self.send(
            {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
        )
        assert status == 200 and body[0]["successful"], body
        self.client_id = body[0]["clientId"]
        return body[0]

    def subscribe(self, channel, replay=-1):
        _, body = self.send(
            {
                "channel": "/meta/subscribe",
                "clientId": self.client_id,
                "subscription": channel,
                "ext": {"replay": {channel: replay}},
            }
        )
        return body[0]

    def connect(self):
        return self.send(
            {"channel": "/meta/connect", "clientId": self.client_id, "connectionType": "long-polling"}
        )

    def events(self, *, want=1, within=10.0):
        found = []
        deadline = time.monotonic() + within
        while len(found) < want and time.monotonic() < deadline:
            status, body = self.connect()
            assert status == 200, body
            assert body[-1]["channel"] == "/meta/connect" and body[-1]["successful"], body
            found += [m for m in body if not m["channel"].startswith("/meta/")]
        return found


@pytest.fixture
def token(org):
    return org.token()["access_token"]


def api(org, token):
    http = org.session()
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def test_an_update_streams_salesforces_event_shape_in_replay_order(org, token):
    client = Bayeux(org, token)
    hello = client.handshake()
    assert hello["advice"]["timeout"] == 2000 and hello["supportedConnectionTypes"] == ["long-polling"]
    assert hello["ext"]["replay"] is True
    assert client.subscribe("/data/ContactChangeEvent")["successful"]
    contact = org.records("Contact")[0]
    started = time.monotonic()
    response = api(org, token).patch(
        f"{org.url}{V}/sobjects/Contact/{contact['Id']}", json={"Title": "Streamed", "FirstName": "Zed"}
    )
    assert response.status_code == 204
    (event,) = client.events(want=1)
    assert time.monotonic() - started < 2
    assert event["channel"] == "/data/ContactChangeEvent"
    payload = event["data"]["payload"]
    header = payload["ChangeEventHeader"]
    assert header["entityName"] == "Contact" and header["changeType"] == "UPDATE"
    assert header["recordIds"] == [contact["Id"]]
    assert set(header["changedFields"]) == {"Title", "Name.FirstName", "LastModifiedDate"}
    assert header["sequenceNumber"] == 1 and header["transactionKey"] and header["commitTimestamp"] > 0
    assert payload["Title"] == "Streamed" and payload["Name"] == {"FirstName": "Zed"}
    assert isinstance(event["data"]["event"]["replayId"], int)

    # A second client replaying from before the change gets it again; -1 gets only what comes next.
    replay = event["data"]["event"]["replayId"]
    again = Bayeux(org, token)
    again.handshake()
    assert again.subscribe("/data/ChangeEvents", replay - 1)["successful"]
    (same,) = again.events(want=1)
    assert same["data"]["event"]["replayId"] == replay and same["channel"] == "/data/ChangeEvents"
    fresh = Bayeux(org, token)
    fresh.handshake()
    fresh.subscribe("/data/ChangeEvents", -1)
    status, body = fresh.connect()  # times out after the (short) advice timeout with nothing
    assert status == 200 and [m["channel"] for m in body] == ["/meta/connect"]


def test_creates_deletes_cascades_and_undeletes_publish_events(org, token):
    client = Bayeux(org, token)
    client.handshake()
    client.subscribe("/data/ChangeEvents")
    http = api(org, token)
    created = http.post(f"{org.url}{V}/sobjects/Account", json={"Name": "Streamers Ltd"}).json()["id"]
    contact = http.post(
        f"{org.url}{V}/sobjects/Contact", json={"LastName": "Flow", "AccountId": created}
    ).json()["id"]
    assert http.delete(f"{org.url}{V}/sobjects/Account/{created}").status_code == 204
    events = client.events(want=4)
    kinds = [
        (
            e["data"]["payload"]["ChangeEventHeader"]["changeType"],
            e["data"]["payload"]["ChangeEventHeader"]["recordIds"][0],
        )
        for e in events
    ]
    assert kinds[:2] == [("CREATE", created), ("CREATE", contact)]
    assert set(kinds[2:]) == {("DELETE", created), ("DELETE", contact)}  # the contact went with its account
    assert events[0]["data"]["payload"]["Name"] == "Streamers Ltd"
    replay_ids = [e["data"]["event"]["replayId"] for e in events]
    assert replay_ids == sorted(replay_ids) and len(set(replay_ids)) == 4
    org.churn(updates=3, creates=2, seed=5)
    churned = client.events(want=5)
    assert sorted(e["data"]["payload"]["ChangeEventHeader"]["changeType"] for e in churned) == [
        "CREATE",
        "CREATE",
        "UPDATE",
        "UPDATE",
        "UPDATE",
    ]


def test_bad_sessions_clients_channels_and_replay_ids_get_salesforces_errors(org, token):
    client = Bayeux(org, token)
    status, body = Bayeux(org, "not-a-token").send({"channel": "/meta/handshake"})
    assert status == 401 and body[0]["error"] == "401::Authentication invalid"
    client.handshake()
    bad = client.subscribe("/data/NoSuchThingChangeEvent")
    assert not bad["successful"] and bad["error"].startswith("400::The channel you requested")
    assert not client.subscribe("/data/ContactChangeEvent", "soon")["successful"]
    client.client_id = "made-up"
    status, body = client.connect()
    assert status == 200 and body[0]["error"] == "403::Unknown client"
    assert body[0]["advice"]["reconnect"] == "handshake"
    # A client that stops polling is forgotten after the client timeout.
    client.handshake()
    client.subscribe("/data/ContactChangeEvent")
    org.pass_time("salesforce_sandbox_streamingclient", "created_at", "last_seen_at", seconds=31)
    assert client.connect()[1][0]["error"] == "403::Unknown client"
    # An expired session mid-stream: 401, and a fresh token works again.
    client = Bayeux(org, token)
    client.handshake()
    org.faults(expire_access_tokens=True)
    status, body = client.connect()
    assert status == 401 and body[0]["error"] == "401::Authentication invalid"
    org.reset_faults()
    # Not JSON, no channel: 400 with a Bayeux error.
    client = Bayeux(org, org.token()["access_token"])
    response = client.http.post(client.url, data="{nope", timeout=10)
    assert response.status_code == 400 and response.json()[0]["successful"] is False


def test_retention_gaps_overflow_and_the_objects_an_org_streams(org, token):
    client = Bayeux(org, token)
    client.handshake()
    client.subscribe("/data/ChangeEvents")
    http = api(org, token)
    contact = org.records("Contact")[1]["Id"]
    http.patch(f"{org.url}{V}/sobjects/Contact/{contact}", json={"Title": "Before expiry"})
    (before,) = client.events(want=1)
    old = before["data"]["event"]["replayId"]
    # Past retention: the stored replay id is refused, -2 replays what is still kept.
    org.faults(expire_events=True)
    late = Bayeux(org, token)
    late.handshake()
    refused = late.subscribe("/data/ChangeEvents", old - 1)
    assert not refused["successful"] and f"replayId {{{old - 1}}}" in refused["error"]
    assert late.subscribe("/data/ChangeEvents", -2)["successful"]
    # Gap events carry the header only; an overflow is one GAP_OVERFLOW per object.
    org.faults(gap_next=1)
    http.patch(f"{org.url}{V}/sobjects/Contact/{contact}", json={"Title": "In a gap"})
    (gap,) = client.events(want=1)
    header = gap["data"]["payload"]["ChangeEventHeader"]
    assert header["changeType"] == "GAP_UPDATE" and header["recordIds"] == [contact]
    assert set(gap["data"]["payload"]) == {"ChangeEventHeader"}
    org.faults(overflow_next=2)  # churn writes each object in its own transaction
    org.churn(updates=4, seed=9)
    overflow = client.events(want=2)
    assert sorted(e["data"]["payload"]["ChangeEventHeader"]["entityName"] for e in overflow) == [
        "Contact",
        "Lead",
    ]
    assert {e["data"]["payload"]["ChangeEventHeader"]["changeType"] for e in overflow} == {"GAP_OVERFLOW"}
    # Which objects publish is the org's setting, visible in its describeGlobal.
    names = {s["name"] for s in http.get(f"{org.url}{V}/sobjects").json()["sobjects"]}
    assert {"ContactChangeEvent", "LeadChangeEvent"} <= names
    org.faults(change_event_objects=["Lead"])
    names = {s["name"] for s in http.get(f"{org.url}{V}/sobjects").json()["sobjects"]}
    assert "LeadChangeEvent" in names and "ContactChangeEvent" not in names
    http.patch(f"{org.url}{V}/sobjects/Contact/{contact}", json={"Title": "Not streamed"})
    assert client.events(want=1, within=3) == []
    assert not Bayeux(org, token).subscribe("/data/ContactChangeEvent")["successful"]
    org.faults(change_event_objects=["*"])
