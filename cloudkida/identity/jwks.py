"""JSON Web Key Sets, cached per issuer and key id; refreshed on an unknown kid, at most once a minute."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import requests
from django.conf import settings

from cloudkida.errors import NotAuthenticated, ServiceUnavailable
from cloudkida.lazy import lazy_module

jwt = lazy_module("jwt")


def jwks_url(issuer: str) -> str:
    """Where an issuer publishes its keys (the emulator's address when one is configured)."""
    if settings.AWS_ENDPOINT_URL and issuer.startswith("https://cognito-idp."):
        pool_id = issuer.rsplit("/", 1)[-1]
        return f"{settings.AWS_ENDPOINT_URL.rstrip('/')}/{pool_id}/.well-known/jwks.json"
    return f"{issuer.rstrip('/')}/.well-known/jwks.json"


class JwksCache:
    def __init__(
        self,
        *,
        refresh_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        fetch: Callable[[str], dict] | None = None,
    ):
        self.refresh_interval = refresh_interval
        self._clock = clock
        self._fetch = fetch or self._http_fetch
        self._keys: dict[str, dict[str, jwt.PyJWK]] = {}
        self._fetched_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self.fetches = 0

    @staticmethod
    def _http_fetch(issuer: str) -> dict:
        try:
            response = requests.get(jwks_url(issuer), timeout=settings.CLOUDKIDA_JWKS_TIMEOUT)
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as error:
            raise ServiceUnavailable(
                "The identity provider's keys could not be fetched.", code="jwks_unavailable"
            ) from error

    def key(self, issuer: str, kid: str) -> jwt.PyJWK:
        """The signing key ``kid`` of ``issuer``; NotAuthenticated if the issuer has no such key."""
        with self._lock:
            known = self._keys.get(issuer, {})
            if kid in known:
                return known[kid]
            last = self._fetched_at.get(issuer)
            if last is not None and self._clock() - last < self.refresh_interval:
                raise NotAuthenticated("The token was signed with an unknown key.", code="unknown_key")
            document = self._fetch(issuer)
            self.fetches += 1
            self._fetched_at[issuer] = self._clock()
            self._keys[issuer] = {
                k["kid"]: jwt.PyJWK(k, algorithm="RS256")
                for k in document.get("keys", [])
                if k.get("kid") and k.get("kty") == "RSA" and k.get("use", "sig") == "sig"
            }
            if kid not in self._keys[issuer]:
                raise NotAuthenticated("The token was signed with an unknown key.", code="unknown_key")
            return self._keys[issuer][kid]

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
            self._fetched_at.clear()


jwks_cache = JwksCache()
