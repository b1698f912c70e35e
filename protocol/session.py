# SPDX-License-Identifier: Apache-2.0
"""Sync sessions: one signed handshake, then requests authenticated by a MAC.

A hybrid signature is 3.3 KB; signing every request would blow the idle-sync budget of
512 bytes each way. So a client opens a session with a signed ``hello`` (its node id,
the server's, a timestamp and a fresh nonce); the server answers with a signed
``welcome`` carrying a random 32-byte session key HPKE-wrapped to the client's
certified KEM key. Afterwards each request and each response carries
``HMAC-SHA256(key, direction | method | path | counter | SHA-256(body))`` and a strictly
increasing counter, so a recorded request cannot be replayed and a response cannot be
forged or swapped.

The handshake's bodies are framed parts, each ``u32(len) | bytes`` (SPEC.md §15.4):
the request is the hello and, when the server may not hold it, the client's
certificate; the answer is the welcome and, when the client did not name it as held,
the server's certificate. A certificate travels only to a peer that lacks it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass, field
from secrets import token_bytes
from typing import Any

from protocol.binary import Reader
from protocol.crypto import KemPrivateKey, KemPublicKey, Random, SigningKey, VerifyKey, sha256
from protocol.errors import ExpiredError, MalformedError, SignatureError, TooLargeError
from protocol.ids import NodeId
from protocol.signed import SignedObject, b64, decode_signed, sign_object, unb64

MAX_SKEW_MS = 5 * 60 * 1000
SESSION_TTL_MS = 12 * 3600 * 1000
WRAP_CONTEXT = b"renkou-net/1 session key\x00"
MAC_CONTEXT = b"renkou-net/1 mac\x00"
MAX_HANDSHAKE = 64 * 1024
"""Bytes of a session request or answer: a hello or welcome and one certificate."""
_HEX24 = re.compile(r"[0-9a-f]{24}")


@dataclass(frozen=True, slots=True)
class Hello:
    sender: NodeId
    recipient: NodeId
    at: int
    nonce: bytes
    signed: SignedObject


def make_hello(
    key: SigningKey, sender: NodeId, recipient: NodeId, at: int, *, random: Random = token_bytes
) -> bytes:
    body = {
        "v": 1,
        "type": "hello",
        "from": str(sender),
        "to": str(recipient),
        "at": at,
        "nonce": b64(random(16)),
    }
    return sign_object(body, key)


def decode_hello(raw: bytes, me: NodeId, now_ms: int) -> Hello:
    """Parse a hello addressed to ``me`` and check its freshness; the caller verifies it.

    Raises:
        MalformedError: not a hello, or addressed to another node.
        ExpiredError: its time is outside ±MAX_SKEW_MS of ours (a replay, or a bad clock).
    """
    signed = decode_signed(raw, expect_type="hello")
    body = signed.body
    if set(body) != {"v", "type", "from", "to", "at", "nonce"} or type(body["at"]) is not int:
        raise MalformedError("hello must hold exactly v, type, from, to, at, nonce")
    recipient = NodeId.parse(str(body["to"]))
    if recipient != me:
        raise MalformedError(f"hello is addressed to {recipient}, not to {me}")
    if abs(body["at"] - now_ms) > MAX_SKEW_MS:
        raise ExpiredError(
            f"hello time {body['at']} is more than {MAX_SKEW_MS // 60000} minutes from ours"
        )
    return Hello(
        NodeId.parse(str(body["from"])),
        recipient,
        body["at"],
        unb64(body["nonce"], "nonce", size=16),
        signed,
    )


@dataclass(frozen=True, slots=True)
class Welcome:
    session_id: str
    key: bytes
    expires: int


def make_welcome(
    key: SigningKey,
    hello: Hello,
    client_kem: KemPublicKey,
    now_ms: int,
    *,
    random: Random = token_bytes,
) -> tuple[bytes, Welcome]:
    """The server's signed answer: a session id and key wrapped for the client."""
    session_key = random(32)
    session_id = random(12).hex()
    info = WRAP_CONTEXT + sha256(hello.signed.raw)
    body: dict[str, Any] = {
        "v": 1,
        "type": "welcome",
        "session": session_id,
        "hello": sha256(hello.signed.raw).hex(),
        "wrap": b64(client_kem.wrap(session_key, info)),
        "expires": now_ms + SESSION_TTL_MS,
    }
    return sign_object(body, key), Welcome(session_id, session_key, body["expires"])


def open_welcome(
    raw: bytes, hello_raw: bytes, kem: KemPrivateKey, server_key: VerifyKey
) -> Welcome:
    """Verify the welcome answering our ``hello_raw``, then unwrap the session key.

    The signature is checked before anything in the body is used.

    Raises:
        SignatureError: not signed by ``server_key``, or not an answer to our hello.
        MalformedError: fields missing or of the wrong form.
        DecryptionError: the key wrap does not open with our KEM key.
    """
    signed = decode_signed(raw, expect_type="welcome")
    signed.verify(server_key)
    body = signed.body
    if set(body) != {"v", "type", "session", "hello", "wrap", "expires"}:
        raise MalformedError("welcome must hold exactly v, type, session, hello, wrap, expires")
    if body["hello"] != sha256(hello_raw).hex():
        raise SignatureError("welcome does not answer our hello")
    session_id, expires = body["session"], body["expires"]
    if not isinstance(session_id, str) or not _HEX24.fullmatch(session_id):
        raise MalformedError("welcome session id must be 24 lower-case hex characters")
    if type(expires) is not int:
        raise MalformedError("welcome expiry must be an integer (ms)")
    info = WRAP_CONTEXT + sha256(hello_raw)
    key = kem.unwrap(unb64(body["wrap"], "wrap"), info)
    return Welcome(session_id, key, expires)


def mac(key: bytes, direction: str, method: str, path: str, counter: int, body: bytes) -> str:
    """The MAC of one request (``direction`` "req") or response ("res"), base64."""
    message = b"\x00".join(
        [
            MAC_CONTEXT,
            direction.encode(),
            method.upper().encode(),
            path.encode(),
            str(counter).encode(),
            hashlib.sha256(body).digest(),
        ]
    )
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()[:16]).decode()


def check_mac(
    key: bytes, given: str, direction: str, method: str, path: str, counter: int, body: bytes
) -> None:
    if not given.isascii() or not hmac.compare_digest(
        mac(key, direction, method, path, counter, body), given
    ):
        raise SignatureError("request authentication failed")


# -- the handshake's framing (SPEC.md §15.4) --------------------------------------------

_LENGTH = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class SessionRequest:
    """``POST /session``: a signed hello and, unless the server holds it, our certificate."""

    hello: bytes = field(repr=False)
    certificate: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class SessionAnswer:
    """The answer: a signed welcome and, unless the client holds it, the server's
    certificate."""

    welcome: bytes = field(repr=False)
    certificate: bytes | None = field(default=None, repr=False)


def encode_session_request(request: SessionRequest) -> bytes:
    return _frame(request.hello, request.certificate)


def decode_session_request(body: bytes) -> SessionRequest:
    """Split a session request into its hello and optional certificate (not checked).

    Raises:
        TooLargeError: over MAX_HANDSHAKE bytes.
        MalformedError: not one or two non-empty framed parts.
    """
    hello, cert = _unframe(body, "session request")
    return SessionRequest(hello, cert)


def encode_session_answer(answer: SessionAnswer) -> bytes:
    return _frame(answer.welcome, answer.certificate)


def decode_session_answer(body: bytes) -> SessionAnswer:
    """Split a session answer into its welcome and optional certificate (not checked).

    Raises:
        TooLargeError: over MAX_HANDSHAKE bytes.
        MalformedError: not one or two non-empty framed parts.
    """
    welcome, cert = _unframe(body, "session answer")
    return SessionAnswer(welcome, cert)


def _frame(first: bytes, second: bytes | None) -> bytes:
    parts = [first] if second is None else [first, second]
    if not all(parts):
        raise ValueError("a handshake part is never empty")
    out = b"".join(_LENGTH.pack(len(p)) + p for p in parts)
    if len(out) > MAX_HANDSHAKE:
        raise ValueError(f"a handshake body is at most {MAX_HANDSHAKE} bytes")
    return out


def _unframe(body: bytes, what: str) -> tuple[bytes, bytes | None]:
    if len(body) > MAX_HANDSHAKE:
        raise TooLargeError(f"{what} of {len(body)} bytes exceeds {MAX_HANDSHAKE}")
    r = Reader(body, what)
    parts: list[bytes] = []
    while r.remaining and len(parts) < 2:
        part = r.blob32(MAX_HANDSHAKE, "part")
        if not part:
            raise MalformedError(f"{what}: part {len(parts) + 1} is empty")
        parts.append(part)
    r.end()
    if not parts:
        raise MalformedError(f"{what} is empty")
    return parts[0], parts[1] if len(parts) == 2 else None
