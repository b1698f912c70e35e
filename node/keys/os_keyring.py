# SPDX-License-Identifier: Apache-2.0
"""The operating system's keyring as a lock of a key file (node/keys/sealed.py).

``keyring`` talks to Windows Credential Manager, the macOS keychain or a Secret Service
(GNOME Keyring, KWallet). Where none works (a server, a container: keyring's ``fail``
backend), nothing is stored and the passphrase alone opens the file. ``RENKOU_KEYRING``
set to ``off`` keeps the keyring out altogether (the tests do: a developer's own
keychain must not fill with test keys).
"""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

SERVICE = "renkou-net"
ENV = "RENKOU_KEYRING"


def _backend() -> Any | None:
    """The keyring backend, if a usable one exists here."""
    if os.environ.get(ENV, "").lower() in ("off", "0", "no"):
        return None
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration is "no keyring", never a crash
        return None
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return backend


def available() -> bool:
    return _backend() is not None


def store(label: str, file_key: bytes) -> dict[str, Any] | None:
    """Keep ``file_key`` in the keyring; return the lock naming it (None: no keyring)."""
    backend = _backend()
    if backend is None:
        return None
    user = f"{label} {hashlib.sha256(file_key).hexdigest()[:16]}"
    try:
        backend.set_password(SERVICE, user, base64.b64encode(file_key).decode("ascii"))
    except Exception:  # locked or refusing keyring: the passphrase still opens the file
        return None
    return {"kind": "keyring", "service": SERVICE, "user": user}


def fetch(lock: dict[str, Any]) -> bytes | None:
    """The file key a keyring lock names, if this PC's keyring holds it."""
    backend = _backend()
    if backend is None or not isinstance(lock.get("user"), str):
        return None
    try:
        text = backend.get_password(str(lock.get("service", SERVICE)), lock["user"])
        key = base64.b64decode(text, validate=True) if text else None
    except Exception:
        return None
    if key is None or len(key) != 32:
        return None
    suffix = str(lock["user"]).rsplit(" ", 1)[-1]
    return key if hashlib.sha256(key).hexdigest()[:16] == suffix else None


def remove(lock: dict[str, Any]) -> None:
    backend = _backend()
    if backend is None:
        return
    try:
        backend.delete_password(str(lock.get("service", SERVICE)), str(lock.get("user")))
    except Exception:
        return
