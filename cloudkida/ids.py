"""Identifiers that are never reused: lower-case ULIDs (48-bit millisecond time + 80 random bits).

A ULID sorts by creation time, is 26 characters of Crockford base-32 (no ``i l o u``), and contains no
``#``, so it is safe in every key, table name, Cognito group and log line. Tenant ids are ULIDs; the
names people choose (slugs, domains) are aliases that point to them.
"""

from __future__ import annotations

import re
import secrets

from cloudkida import clock

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
ULID_RE = re.compile(r"^[0-7][0-9abcdefghjkmnpqrstvwxyz]{25}$")


def new_ulid() -> str:
    """A new ULID, time-ordered to the millisecond (``clock.now`` so frozen time gives stable order)."""
    value = (int(clock.now().timestamp() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_ulid(value: object) -> bool:
    return isinstance(value, str) and bool(ULID_RE.match(value))
