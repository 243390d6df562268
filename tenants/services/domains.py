"""Custom domains: a tenant admin adds a domain, publishes a DNS TXT token, and once the record is seen the
domain serves the tenant's portal and sign-in.

- Adding is a claim in the tenant's own partition (``DOMAIN#<host>``) with a random token: several tenants
  may claim a name, none holds it; the token proves nothing until DNS shows it.
- Verifying looks up ``_cloudkida.<domain>`` TXT (``cloudkida.dnscheck``, injectable) for
  ``cloudkida-verify=<token>``; on success the claim is marked verified and the ``HOST#<domain>`` item is
  written in the same transaction, conditional on no other tenant holding it: one tenant per domain.
  The app client's callback and logout URLs then include the domain.
- Removing deletes both and takes the domain out of the app client's URLs; the name is free again.
"""

from __future__ import annotations

import ipaddress
import re
import secrets

from django.conf import settings

from cloudkida import clock, dnscheck
from cloudkida.errors import Conflict, NotFound, PaymentRequired, ValidationFailed
from tenants import provisioning, repository
from tenants.domain import CustomDomain, DomainStatus
from tenants.plans import plan_for
from tenants.selectors import tenant_cache_clear, tenant_get
from tenants.services.management import audit

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def validate_domain(domain: str) -> str:
    """A lower-cased host name of at least two labels that is not CloudKida's own, not an IP address."""
    host = (domain or "").strip().lower().rstrip(".")
    field = {"field": "domain"}
    try:
        ipaddress.ip_address(host)
        raise ValidationFailed("Give a domain name, not an IP address.", code="invalid_domain", details=field)
    except ValueError:
        pass
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ValidationFailed("Give a domain name such as learn.example.com.", code="invalid_domain", details=field)
    base = settings.CLOUDKIDA_BASE_DOMAIN.lower()
    if host == base or host.endswith("." + base) or host.endswith(".localhost") or host == "localhost":
        raise ValidationFailed(
            "That address is CloudKida's own; give a domain your organisation controls.",
            code="invalid_domain",
            details=field,
        )
    return host


def _claim(tenant_id: str, domain: str) -> CustomDomain:
    try:
        host = validate_domain(domain)
    except ValidationFailed as error:
        raise NotFound("No such domain.", code="domain_not_found") from error
    found = repository.domain_get(tenant_id, host)
    if found is None:
        raise NotFound("No such domain.", code="domain_not_found")
    return found


def domain_add(*, tenant_id: str, domain: str, actor: str) -> CustomDomain:
    """Claim a domain for the tenant (pending): returns it with the TXT record to publish
    (``record_name``, ``record_value``). 409 ``already_exists`` if this tenant added it already, 402
    ``domain_limit_reached`` beyond the plan's number of domains."""
    host = validate_domain(domain)
    tenant = tenant_get(tenant_id=tenant_id)
    limit = plan_for(tenant.tier).custom_domains
    claimed = repository.domains_of(tenant_id)
    if any(d.hostname == host for d in claimed):
        raise Conflict(f"You have added {host} already.", code="already_exists", details={"field": "domain"})
    if len(claimed) >= limit:
        raise PaymentRequired(
            f"Your plan allows {limit} custom domain{'s' if limit != 1 else ''}; remove one or move to a larger plan.",
            code="domain_limit_reached",
            details={"limit": limit},
        )
    claim = CustomDomain(
        tenant_id=tenant_id,
        hostname=host,
        token=secrets.token_urlsafe(24),
        status=DomainStatus.PENDING,
        created_at=clock.now(),
    )
    try:
        claim = repository.domain_add(claim)
    except Conflict as conflict:
        raise Conflict(
            f"You have added {host} already.", code="already_exists", details={"field": "domain"}
        ) from conflict
    audit(tenant_id, "domain.added", actor, domain=host)
    return claim


def domain_verify(*, tenant_id: str, domain: str, actor: str) -> CustomDomain:
    """Look for the TXT record; if it is there, the domain maps to the tenant and becomes a callback URL
    of its app client. 400 ``dns_record_missing`` (saying what to publish) if it is not there yet, 409
    ``domain_taken`` if another organisation has verified the domain."""
    claim = _claim(tenant_id, domain)
    values = dnscheck.txt_records(claim.record_name)
    if claim.record_value not in values:
        repository.domain_checked(claim, at=clock.to_iso(clock.now()))
        raise ValidationFailed(
            f"No TXT record {claim.record_name} with the value {claim.record_value} was found yet. DNS changes "
            "can take a while to appear; try again later.",
            code="dns_record_missing",
            details={"record_name": claim.record_name, "record_value": claim.record_value, "found": values[:5]},
        )
    if claim.status is DomainStatus.VERIFIED and repository.host_get(claim.hostname) == tenant_id:
        return claim
    try:
        claim = repository.domain_verified(claim, at=clock.to_iso(clock.now()))
    except Conflict as conflict:
        if getattr(conflict, "failed", [""])[0] == "host":
            raise Conflict(
                f"{claim.hostname} already serves another CloudKida organisation.",
                code="domain_taken",
                details={"field": "domain"},
            ) from conflict
        raise
    tenant_cache_clear(tenant_id=tenant_id)
    _update_app_client(tenant_id)
    audit(tenant_id, "domain.verified", actor, domain=claim.hostname)
    return claim


def domain_remove(*, tenant_id: str, domain: str, actor: str) -> None:
    """Stop serving the tenant on the domain and free the name (its app client forgets the URLs)."""
    claim = _claim(tenant_id, domain)
    repository.domain_remove(claim)
    tenant_cache_clear(tenant_id=tenant_id)
    if claim.status is DomainStatus.VERIFIED:
        _update_app_client(tenant_id)
    audit(tenant_id, "domain.removed", actor, domain=claim.hostname)


def _update_app_client(tenant_id: str, identity_providers: list[str] | None = None) -> None:
    tenant = tenant_get(tenant_id=tenant_id)
    identity = tenant.identity
    if identity.get("client_id") and identity.get("user_pool_id"):
        provisioning.set_app_client_hosts(
            identity["user_pool_id"],
            identity["client_id"],
            tenant_id,
            base_urls=provisioning.tenant_base_urls(tenant.slug, repository.hosts_of(tenant_id)),
            identity_providers=identity_providers,
        )


def app_client_identity_providers_set(*, tenant_id: str, provider_names: list[str]) -> None:
    """Offer exactly COGNITO and ``provider_names`` on the tenant's app client, keeping its hosts (the
    whole client configuration is sent again: UpdateUserPoolClient resets what it is not given)."""
    _update_app_client(tenant_id, identity_providers=list(provider_names))
