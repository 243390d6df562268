"""pylti1p3 wired to our storage: the tool configuration from the platform registry, launch state in
DynamoDB, a nonce that can be used once, and the tool's key pair."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from pylti1p3.contrib.django import DjangoMessageLaunch
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException
from pylti1p3.launch_data_storage.cache import CacheDataStorage
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.tool_config.abstract import ToolConfAbstract

from accounts.integrations.delivery import GuardedSession
from cloudkida.errors import ServiceUnavailable
from cloudkida.lazy import lazy_module
from labs.lti import platforms

jwt = lazy_module("jwt")

LEEWAY_SECONDS = 60  # platforms' clocks drift; pylti1p3 itself allows none
_keys: dict[str, tuple[str, str]] = {}
_lock = threading.Lock()


def _generate() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def tool_keys() -> tuple[str, str]:
    """(private PEM, public PEM) of the tool. ``CLOUDKIDA_LTI_PRIVATE_KEY``; outside production a key made
    once (kept in the local state directory under ``make run``, per process in tests)."""
    with _lock:
        if "tool" not in _keys:
            private = settings.CLOUDKIDA_LTI_PRIVATE_KEY
            if not private:
                if settings.IS_PRODUCTION:
                    raise ServiceUnavailable("LTI is not configured on this stage.", code="lti_not_configured")
                if settings.ENV == "local":
                    path = Path(settings.LOCAL_STATE_DIR) / "lti-tool-key.pem"
                    if not path.exists():
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_text(_generate())
                    private = path.read_text()
                else:
                    private = _generate()
            key = serialization.load_pem_private_key(private.encode(), password=None)
            public = key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            _keys["tool"] = (private, public.decode())
        return _keys["tool"]


def connector(platform: platforms.LtiPlatform) -> ServiceConnector:
    """The way to the platform's services (AGS), through the same address checks as a launch."""
    return ServiceConnector(registration_of(platform), GuardedSession())


def registration_of(platform: platforms.LtiPlatform) -> Registration:
    private, public = tool_keys()
    registration = (
        Registration()
        .set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_login_url(platform.auth_login_url)
        .set_auth_token_url(platform.auth_token_url)
        .set_key_set_url(platform.key_set_url)
        .set_tool_private_key(private)
        .set_tool_public_key(public)
    )
    if platform.auth_audience:
        registration.set_auth_audience(platform.auth_audience)
    return registration


class RepoToolConf(ToolConfAbstract):
    """Registrations from the platform registry: one per (issuer, client id), each naming its tenant."""

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True  # a platform (Canvas cloud, say) serves many tenants, each with its own client id

    def find_registration_by_issuer(self, iss, *args, **kwargs):
        return None  # the client id is required: it is what tells tenants apart

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):
        platform = platforms.lti_platform_find(iss, client_id) if iss and client_id else None
        return registration_of(platform) if platform else None

    def find_deployment(self, iss, deployment_id):
        return None

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        platform = platforms.lti_platform_find(iss, client_id) if iss and client_id else None
        if platform is None or deployment_id not in platform.deployment_ids:
            return None
        return Deployment().set_deployment_id(deployment_id)

    def get_jwks(self, iss=None, client_id=None, **kwargs) -> dict[str, Any]:
        return {"keys": [Registration.get_jwk(tool_keys()[1])]}


class _DynamoCache:
    def get(self, key: str) -> Any:
        return platforms.state_get(key)

    def set(self, key: str, value: Any, exp: int | None = None) -> None:
        platforms.state_set(key, value, exp or 7200)


class DynamoLaunchDataStorage(CacheDataStorage):
    """Launch state (state, nonce, launch data) in DynamoDB, shared by every Lambda instance."""

    _cache = _DynamoCache()

    def consume(self, key: str) -> bool:
        return platforms.state_consume(self._prepare_key(key))


class CloudKidaLaunch(DjangoMessageLaunch):
    """A launch whose nonce is used once (pylti1p3 accepts a replay), whose token may be a minute off, and
    whose requests to the platform (its JWKS) go through the webhooks' address checks: the platform's URLs
    are a tenant's input, so a name resolving to a private address is refused at the time of the call."""

    def __init__(
        self,
        request,
        tool_config,
        session_service=None,
        cookie_service=None,
        launch_data_storage=None,
        requests_session=None,
    ):
        super().__init__(
            request,
            tool_config,
            session_service,
            cookie_service,
            launch_data_storage,
            requests_session or GuardedSession(),
        )

    def validate_nonce(self):
        nonce = self._get_jwt_body().get("nonce")
        if not nonce:
            raise LtiException('"nonce" is empty')
        storage = self._session_service.data_storage
        if not storage.consume(self._session_service._get_key("nonce", nonce)):
            raise LtiException("Invalid Nonce (unknown or already used)")
        return self

    def validate_jwt_signature(self):
        key, alg = self.get_public_key()
        try:
            jwt.decode(
                self._get_id_token(),
                key,
                algorithms=[alg],
                leeway=LEEWAY_SECONDS,
                options={"verify_aud": False, "require": ["exp", "iat", "nonce"]},
            )
        except jwt.InvalidTokenError as error:
            raise LtiException(f"Can't decode id_token: {error}") from error
        return self
