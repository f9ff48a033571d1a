"""Passwords (argon2id), random secrets, the Principal (who is asking) and role checks.

argon2-cffi's defaults are RFC 9106's low-memory profile (argon2id, t=3, m=64 MiB, p=4); about 0.4 s per
verify on a 2-core machine, so at most two run at once (a login flood cannot take the memory) and machine
clients use API tokens instead (sha256 of 32 random bytes, no KDF per request).
"""

from __future__ import annotations

import hmac
import secrets
import threading
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["Principal", "hash_password", "verify_password", "new_secret", "ROLE_RANK", "ANONYMOUS", "same"]

_ph = PasswordHasher()
_verify_slots = threading.BoundedSemaphore(2)
#: verified against when the user name is unknown, so both cases take the same time
_DUMMY = _ph.hash(secrets.token_urlsafe(16))

#: enterprise roles are ordered; a supplier is outside the order
ROLE_RANK = {"viewer": 1, "planner": 2, "admin": 3}


def hash_password(password: str) -> str:
    if len(password) < 12:
        raise ValueError("password too short: at least 12 characters")
    return _ph.hash(password)


def verify_password(pw_hash: str | None, password: str) -> tuple[bool, str | None]:
    """(ok, new hash when the stored one uses old parameters). Unknown user: pass None."""
    with _verify_slots:
        try:
            _ph.verify(pw_hash or _DUMMY, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False, None
    if pw_hash is None:
        return False, None
    return True, (_ph.hash(password) if _ph.check_needs_rehash(pw_hash) else None)


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


@dataclass(frozen=True)
class Principal:
    """Who is asking. ``supplier_id`` is set for supplier users and only for them."""

    user_id: int | None = None
    username: str = "anonymous"
    role: str = "anonymous"
    supplier_id: str | None = None
    csrf: str | None = None
    via: str = "anonymous"  # anonymous | session | token

    @property
    def is_supplier(self) -> bool:
        return self.role == "supplier" and bool(self.supplier_id)

    def at_least(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]


ANONYMOUS = Principal()
