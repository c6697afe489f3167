"""A tiny Salesforce REST stand-in on `responses` for engine unit tests (the sandbox process is the real test).

It serves describe, COUNT(), query/queryAll with `SystemModstamp >= t` / `< t` and `Id IN (...)` filters,
ordered by (SystemModstamp, Id), paged by nextRecordsUrl, and an `Sforce-Limit-Info` header.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import parse_qs, urlsplit

import responses

INSTANCE = "https://fake.my.salesforce.com"
V = "/services/data/v62.0"

TYPES = {
    "Id": "id",
    "SystemModstamp": "datetime",
    "IsDeleted": "boolean",
    "CreatedDate": "datetime",
    "LastModifiedDate": "datetime",
    "Email": "email",
    "FirstName": "string",
    "LastName": "string",
    "AccountId": "reference",
    "HasOptedOutOfEmail": "boolean",
    "Name": "string",
    "Phone": "phone",
    "LeadSource": "picklist",
    "Score__c": "double",
}


def stamp(minutes: int) -> str:
    t = dt.datetime(2026, 11, 20, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


class FakeOrg:
    def __init__(self, rsps: responses.RequestsMock, *, page_size: int = 2, limit_max: int = 15000):
        self.rsps = rsps
        self.objects: dict[str, list[dict]] = {}
        self.fields: dict[str, list[str]] = {}
        self.page_size = page_size
        self.used = 0
        self.limit_max = limit_max
        self.calls: list[str] = []
        self.cursors: dict[str, list[dict]] = {}
        self.fail_next: list[tuple[int, list]] = []  # (status, body) answers to give before the real one
        self.fail_more: list[tuple[int, list]] = []  # the same, for queryMore only
        rsps.add_callback(
            responses.GET, re.compile(rf"{INSTANCE}{V}/sobjects/\w+/describe/?"), self._describe
        )
        rsps.add_callback(responses.GET, re.compile(rf"{INSTANCE}{V}/query(All)?/?\?.*"), self._query)
        rsps.add_callback(responses.GET, re.compile(rf"{INSTANCE}{V}/query/[\w-]+"), self._more)

    def add(self, name: str, fields: list[str], records: list[dict]) -> None:
        self.fields[name] = fields
        self.objects.setdefault(name, []).extend(records)

    def _headers(self):
        self.used += 1
        return {
            "Sforce-Limit-Info": f"api-usage={self.used}/{self.limit_max}",
            "Content-Type": "application/json",
        }

    def _describe(self, request):
        name = (
            urlsplit(request.url).path.split("/")[-2]
            if request.url.endswith("/")
            else urlsplit(request.url).path.split("/")[-2]
        )
        name = (
            [p for p in urlsplit(request.url).path.split("/") if p][-2] if "describe" in request.url else name
        )
        self.calls.append(f"describe {name}")
        if name not in self.fields:
            return (
                404,
                self._headers(),
                json.dumps([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]),
            )
        body = {
            "name": name,
            "fields": [
                {"name": f, "type": TYPES.get(f, "string"), "calculated": False} for f in self.fields[name]
            ],
        }
        return 200, self._headers(), json.dumps(body)

    def _query(self, request):
        if self.fail_next:
            status, body = self.fail_next.pop(0)
            return status, self._headers(), json.dumps(body)
        soql = parse_qs(urlsplit(request.url).query)["q"][0]
        self.calls.append(soql)
        m = re.match(r"SELECT (.+?) FROM (\w+)(?: WHERE (.+?))?(?: ORDER BY .+?)?(?: LIMIT (\d+))?$", soql)
        fields, name, where, limit = m.group(1), m.group(2), m.group(3) or "", m.group(4)
        rows = list(self.objects.get(name, []))
        include_deleted = "/queryAll" in request.url
        if not include_deleted:
            rows = [r for r in rows if not r.get("IsDeleted")]
        for op, value in re.findall(r"SystemModstamp (>=|<) (\S+)", where):
            t = _parse(value)
            rows = [
                r
                for r in rows
                if (_parse(r["SystemModstamp"]) >= t if op == ">=" else _parse(r["SystemModstamp"]) < t)
            ]
        ids = re.search(r"Id IN \((.+)\)", where)
        if ids:
            wanted = {i.strip("' ") for i in ids.group(1).split(",")}
            rows = [r for r in rows if r["Id"] in wanted]
        rows.sort(key=lambda r: (_parse(r["SystemModstamp"]), r["Id"]))
        if limit:
            rows = rows[: int(limit)]
        if fields == "COUNT()":
            return 200, self._headers(), json.dumps({"totalSize": len(rows), "done": True, "records": []})
        names = [f.strip() for f in fields.split(",")]
        rows = [{"attributes": {"type": name}, **{f: r.get(f) for f in names}} for r in rows]
        return self._page(rows, 0)

    def _page(self, rows, offset):
        chunk = rows[offset : offset + self.page_size]
        body = {"totalSize": len(rows), "done": offset + self.page_size >= len(rows), "records": chunk}
        if not body["done"]:
            key = f"01g{len(self.cursors)}"
            self.cursors[key] = rows
            body["nextRecordsUrl"] = f"{V}/query/{key}-{offset + self.page_size}"
        return 200, self._headers(), json.dumps(body)

    def _more(self, request):
        if self.fail_more or self.fail_next:
            status, body = (self.fail_more or self.fail_next).pop(0)
            return status, self._headers(), json.dumps(body)
        loc = urlsplit(request.url).path.rsplit("/", 1)[1]
        key, offset = loc.rsplit("-", 1)
        self.calls.append(f"more {loc}")
        return self._page(self.cursors[key], int(offset))
