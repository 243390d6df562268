"""Entities of the integrations: webhook endpoints, their secrets, deliveries and attempts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class EndpointStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class Secret:
    """A signing secret (``whsec_<base64>``); one that is being rotated out carries ``expires_at``."""

    value: str
    created_at: datetime
    expires_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at > now


@dataclass
class WebhookEndpoint:
    tenant_id: str
    endpoint_id: str
    url: str
    event_types: list[str]
    description: str
    status: EndpointStatus
    secrets: list[Secret]
    contact_email: str
    created_at: datetime
    created_by: str
    failing_since: datetime | None = None
    disabled_reason: str = ""
    version: int = 0

    def live_secrets(self, now: datetime) -> list[Secret]:
        return [s for s in self.secrets if s.live(now)]

    def wants(self, event_type: str) -> bool:
        return self.status is EndpointStatus.ACTIVE and ("*" in self.event_types or event_type in self.event_types)


@dataclass(frozen=True)
class Attempt:
    number: int
    at: datetime
    status_code: int | None  # None: no HTTP response (refused destination, timeout, connection error)
    latency_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class Delivery:
    tenant_id: str
    endpoint_id: str
    delivery_id: str  # the message id (``webhook-id``): the same for every attempt and every endpoint
    event_type: str
    body: str  # the exact JSON sent (signed as is)
    status: DeliveryStatus
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: list[Attempt] = field(default_factory=list)
    in_flight: int = 0  # the attempt a worker has claimed and not yet recorded
    in_flight_at: datetime | None = None
    round_start: int = 0  # attempts made before the last redelivery (the retry schedule counts from here)
    last_error: str = ""
    version: int = 0


class ProviderType(StrEnum):
    OIDC = "OIDC"
    SAML = "SAML"


@dataclass
class IdentityProvider:
    """A tenant's own identity provider, registered with Cognito on the tenant's pool and app client.

    ``provider_name`` is the Cognito provider name (derived from the tenant id, unique in the pool). The
    client secret is never here: it lives only in Cognito's ProviderDetails.
    """

    tenant_id: str
    provider_name: str
    provider_type: ProviderType
    display_name: str
    email_domains: list[str]
    default_role: str  # TenantUser or TenantAdmin: what a person signing in the first time becomes
    attribute_mapping: dict[str, str]  # Cognito attribute (email, name) -> the provider's claim
    created_at: datetime
    created_by: str
    issuer: str = ""  # OIDC
    client_id: str = ""  # OIDC
    metadata_url: str = ""  # SAML (or the metadata document, sent to Cognito only)
    version: int = 0
