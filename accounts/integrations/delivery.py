"""Sending one webhook: Standard Webhooks signatures, and an HTTP POST that cannot be turned on our own network.

Signing (https://www.standardwebhooks.com): ``webhook-id``, ``webhook-timestamp`` (epoch seconds) and
``webhook-signature``: ``v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}.{body}")>`` for every live secret of
the endpoint, space-separated (two while a rotation overlaps). The key is the base64-decoded part of
``whsec_<base64>``.

SSRF: the destination's name is resolved once per attempt, and the attempt is refused if ANY address is not
public (private, loopback, link-local, CGNAT, multicast, reserved, unspecified; IPv4-mapped and NAT64 forms
unwrapped). The connection then goes to that checked address, with the name kept for ``Host``, SNI and the
certificate check, so a second lookup (DNS rebinding) cannot point it elsewhere. Redirects are not followed,
proxies from the environment are ignored, and at most a few KB of the response are read: an endpoint only
ever learns that its status code was recorded. Loopback is allowed (over http too) only when
``CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK`` is on (local runs and tests; production refuses the setting).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from cloudkida.errors import ValidationFailed

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
CONNECT_TIMEOUT = 3.05  # seconds
MAX_RESPONSE_BYTES = 4096
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedDestination(Exception):
    """The endpoint's address is not one CloudKida may call."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret_values: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": "CloudKida-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in secret_values),
    }


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.version == 6 and ip in _NAT64:
        ip = ipaddress.ip_address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not (
        ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback or ip.is_private or ip.is_unspecified
    )


def _unwrap(ip):
    if ip.version == 6 and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def allowed_address(ip) -> bool:
    ip = _unwrap(ip)
    if ip.is_loopback:
        return settings.CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK
    return is_public(ip)


def check_url(url: str) -> str:
    """Refuse (400 ``invalid_url``) what can never be delivered to: not https (http only to loopback in
    development), credentials in the URL, no host, a literal address that is not allowed. Names are
    checked again at every delivery, after resolution."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ValidationFailed("That is not a valid URL.", code="invalid_url") from error
    if len(url) > 2000 or parts.scheme not in {"https", "http"} or not parts.hostname:
        raise ValidationFailed("Webhook URLs must be https:// URLs.", code="invalid_url")
    if parts.username or parts.password:
        raise ValidationFailed("Webhook URLs may not carry credentials.", code="invalid_url")
    literal = None
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        pass
    local = settings.CLOUDKIDA_WEBHOOK_ALLOW_LOOPBACK and (
        parts.hostname == "localhost" or (literal is not None and _unwrap(literal).is_loopback)
    )
    if parts.scheme == "http" and not local:
        raise ValidationFailed("Webhook URLs must be https:// URLs.", code="invalid_url")
    if literal is not None and not allowed_address(literal):
        raise ValidationFailed("Webhook URLs may not point at private or local addresses.", code="invalid_url")
    if port == 0:
        raise ValidationFailed("That is not a valid URL.", code="invalid_url")
    return url


def resolve(host: str, port: int) -> str:
    """The one address this attempt connects to; BlockedDestination if any address of ``host`` is not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise BlockedDestination(f"the name does not resolve ({error})") from error
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise BlockedDestination("the name does not resolve")
    refused = [str(a) for a in addresses if not allowed_address(a)]
    if refused:
        raise BlockedDestination(f"refused address {refused[0]} (private, loopback or link-local)")
    return str(addresses[0])


class _PinnedAdapter(HTTPAdapter):
    """Connect to the checked address while TLS (SNI, certificate) speaks for the name."""

    def __init__(self, hostname: str, **kwargs):
        self._hostname = hostname
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["server_hostname"] = self._hostname
        kwargs["assert_hostname"] = self._hostname
        super().init_poolmanager(*args, **kwargs)


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    error: str = ""


class BlockedRequest(requests.ConnectionError):
    """A library's request to an address CloudKida may not call (raised like any connection failure)."""


def _pinned(session: requests.Session, url: str) -> tuple[str, str]:
    """Resolve and check ``url``'s host once; mount the pinning adapter on ``session``; return the URL to
    call (the checked address) and the ``Host`` header (the name). BlockedDestination if refused."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    ip = resolve(host, port)
    ip_host = f"[{ip}]" if ":" in ip else ip
    target = f"{parts.scheme}://{ip_host}:{port}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":
        session.mount(f"https://{ip_host}:{port}", _PinnedAdapter(host))
    return target, host if parts.port is None else f"{host}:{port}"


class GuardedSession(requests.Session):
    """For libraries that call URLs a tenant gave us (pylti1p3's JWKS, token and grade requests): every
    request goes through the delivery checks above — resolved once, refused unless allowed, connected to
    the checked address — without redirects or environment proxies, and with the delivery timeouts."""

    def __init__(self):
        super().__init__()
        self.trust_env = False  # an environment proxy would resolve the name again

    def request(self, method, url, *args, **kwargs):
        try:
            target, host_header = _pinned(self, url)
        except BlockedDestination as error:
            raise BlockedRequest(f"refused {urlsplit(url).hostname}: {error}") from error
        kwargs["headers"] = {**(kwargs.get("headers") or {}), "host": host_header}
        kwargs["allow_redirects"] = False
        kwargs.setdefault("timeout", (CONNECT_TIMEOUT, settings.CLOUDKIDA_WEBHOOK_TIMEOUT))
        return super().request(method, target, *args, **kwargs)


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST ``body`` to ``url`` through the checks above; never raises for the endpoint's faults."""
    started = time.monotonic()
    with GuardedSession() as session:
        try:
            with session.post(url, data=body, headers=headers, stream=True) as response:
                response.raw.read(MAX_RESPONSE_BYTES, decode_content=False)
                return Outcome(response.status_code, int((time.monotonic() - started) * 1000))
        except BlockedRequest as error:
            return Outcome(None, 0, f"blocked: {error.__cause__}")
        except requests.RequestException as error:
            elapsed = int((time.monotonic() - started) * 1000)
            return Outcome(None, elapsed, f"{type(error).__name__}: {error}"[:300])
