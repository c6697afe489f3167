"""OpenID Connect: RS256 id_tokens for grants with the `openid` scope, and the keys to verify them."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.db import IntegrityError

from ..models import SigningKey
from ..routers import SANDBOX_DB

ID_TOKEN_LIFETIME = dt.timedelta(minutes=5)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signing_key() -> SigningKey:
    """The org's key, created once (every process and thread ends up with the same one)."""
    key = SigningKey.objects.using(SANDBOX_DB).order_by("created_at").first()
    if key is not None:
        return key
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    try:
        SigningKey.objects.using(SANDBOX_DB).create(kid=secrets.token_hex(4), private_pem=pem)
    except IntegrityError:
        pass
    return SigningKey.objects.using(SANDBOX_DB).order_by("created_at").first()


def jwks() -> dict:
    key = signing_key()
    public = (
        serialization.load_pem_private_key(key.private_pem.encode(), password=None)
        .public_key()
        .public_numbers()
    )
    return {
        "keys": [
            {
                "kty": "RSA",
                "n": _b64(public.n.to_bytes((public.n.bit_length() + 7) // 8, "big")),
                "e": _b64(public.e.to_bytes((public.e.bit_length() + 7) // 8, "big")),
                "alg": "RS256",
                "use": "sig",
                "kid": key.kid,
            }
        ]
    }


def id_token(
    *,
    origin: str,
    client_id: str,
    identity: str,
    user_claims: dict,
    access_token: str,
    issued_at: dt.datetime,
    nonce: str = "",
) -> str:
    key = signing_key()
    digest = hashlib.sha256(access_token.encode()).digest()
    claims = {
        "at_hash": _b64(digest[: len(digest) // 2]),
        "sub": identity,
        "aud": client_id,
        "iss": origin,
        "exp": int((issued_at + ID_TOKEN_LIFETIME).timestamp()),
        "iat": int(issued_at.timestamp()),
        **user_claims,
    }
    if nonce:
        claims["nonce"] = nonce
    header = {"kid": key.kid, "typ": "JWT", "alg": "RS256"}
    signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(claims))}"
    private = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"
