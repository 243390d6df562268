"""The JWKS cache: one fetch per issuer, a refresh on an unknown kid at most once per interval."""

from __future__ import annotations

import pytest

from cloudkida.errors import NotAuthenticated
from cloudkida.identity.jwks import JwksCache, jwks_url


def _jwk(kid: str) -> dict:
    from jwt.algorithms import RSAAlgorithm

    from tests.identity.conftest import moto_private_key

    return {**RSAAlgorithm.to_jwk(moto_private_key().public_key(), as_dict=True), "kid": kid, "use": "sig"}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_keys_are_fetched_once_and_refreshed_on_an_unknown_kid_at_most_once_per_interval():
    documents = {"https://issuer.example": {"keys": [_jwk("one")]}}
    fetched: list[str] = []
    clock = Clock()

    def fetch(issuer):
        fetched.append(issuer)
        return documents[issuer]

    cache = JwksCache(refresh_interval=60, clock=clock, fetch=fetch)
    cache.key("https://issuer.example", "one")
    cache.key("https://issuer.example", "one")
    assert fetched == ["https://issuer.example"]
    documents["https://issuer.example"] = {"keys": [_jwk("one"), _jwk("two")]}
    clock.now += 10
    with pytest.raises(NotAuthenticated):  # a new kid inside the interval: no refetch (no fetch storms)
        cache.key("https://issuer.example", "two")
    assert len(fetched) == 1
    clock.now += 60
    assert cache.key("https://issuer.example", "two")  # after the interval the rotation is picked up
    assert len(fetched) == 2


def test_jwks_url_follows_the_emulator_when_one_is_configured(settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:5000"
    assert jwks_url("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc") == (
        "http://127.0.0.1:5000/us-east-1_abc/.well-known/jwks.json"
    )
    settings.AWS_ENDPOINT_URL = None
    assert jwks_url("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc") == (
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc/.well-known/jwks.json"
    )
