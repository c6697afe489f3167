"""Salesforce record Ids: 15 case-sensitive characters plus a 3-character case-insensitive checksum.

Layout of the 15: key prefix (3) + instance "Dw" (2) + the org's character ("0" for the default org) (1) +
record number in base 62 (9), so Ids of one object sort in creation order and two orgs never share an Id.
"""

from __future__ import annotations

import re

from .routers import current_org

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
ORG_ID = "00DDw0000000001MAA"
ID_PATTERN = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")


def checksum(id15: str) -> str:
    out = []
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        out.append(_CHECKSUM_ALPHABET[bits])
    return "".join(out)


def make_id(key_prefix: str, number: int) -> str:
    digits = []
    for _ in range(9):
        number, rem = divmod(number, 62)
        digits.append(BASE62[rem])
    if number:
        raise ValueError("record number out of range")
    id15 = f"{key_prefix}Dw{current_org().id_infix}{''.join(reversed(digits))}"
    return id15 + checksum(id15)


def to_18(sf_id: str) -> str | None:
    """The 18-character form of a 15- or 18-character Id, or None if it is not a well-formed Id."""
    if not isinstance(sf_id, str) or not ID_PATTERN.match(sf_id):
        return None
    id15 = sf_id[:15]
    full = id15 + checksum(id15)
    if len(sf_id) == 18 and sf_id[15:].upper() != full[15:]:
        return None
    return full
