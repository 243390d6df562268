"""Cognito Lambda triggers for federated sign-in: who a person signing in through the organisation's own
identity provider becomes. Served by the Lambda function: ``cloudkida.lambda_entry`` routes events that carry
a ``triggerSource`` to the functions registered for them (``TRIGGERS``, registered by AccountsConfig); locally
the hosted-UI emulation runs the same functions with the same event shape (``run_trigger``).

Never trusted from the identity provider: the tenant (it is the app client's, ``callerContext.clientId``)
and the role (the provider record's default, or the linked user's own). The attribute mapping only maps
email and name, and ``custom:tenantId``/``custom:userRole`` are written here whatever arrived.

- PreSignUp_ExternalProvider (a federated identity seen for the first time): the provider must be one of
  the client's tenant's; an existing user of THAT tenant with the same email is linked
  (AdminLinkProviderForUser to their sign-in, if they have one), unless disabled; otherwise a seat must be free.
- PostConfirmation_ConfirmSignUp (the federated user now exists): tenant and role attributes, the tenant's
  group, and our user record (id = the user's ``sub``), with an audit event.

A trigger that refuses raises ``SignInRefused``: Cognito shows its message on the hosted UI and makes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from accounts import cognito, repository
from accounts.domain import Role, UserStatus
from accounts.selectors import seats_of, user_get_by_email
from accounts.services import user_create
from cloudkida import resources
from cloudkida.errors import ApplicationError, Conflict
from cloudkida.validation import validate_email
from tenants.domain import Tenant
from tenants.selectors import tenant_for_client, tenant_get_cached
from tenants.services import audit

from . import sso_repository as repo
from .domain import IdentityProvider

logger = logging.getLogger(__name__)

# triggerSource -> the function that serves it (cloudkida.resources.register_cognito_trigger).
TRIGGERS = {
    "PreSignUp_ExternalProvider": "accounts.integrations.federation.pre_sign_up",
    "PostConfirmation_ConfirmSignUp": "accounts.integrations.federation.post_confirmation",
}


class SignInRefused(Exception):
    """The federated sign-in may not go on (the message is for the person signing in)."""


def run_trigger(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """What the Lambda entry point does with a trigger event (an unmapped source returns the event unchanged)."""
    return resources.cognito_trigger(event.get("triggerSource", ""))(event, context)


def _tenant(event: dict[str, Any]) -> Tenant:
    client_id = (event.get("callerContext") or {}).get("clientId", "")
    tenant_id = tenant_for_client(client_id=client_id)
    if not tenant_id:
        raise SignInRefused("This application does not belong to a CloudKida organisation.")
    tenant = tenant_get_cached(tenant_id=tenant_id)
    if tenant.identity.get("user_pool_id") != event.get("userPoolId") or not tenant.is_serving:
        raise SignInRefused("This organisation cannot be signed in to now.")
    return tenant


def _provider(tenant: Tenant, provider_name: str) -> IdentityProvider:
    provider = repo.provider_get(tenant.tenant_id, provider_name) if provider_name else None
    if provider is None:
        raise SignInRefused("This identity provider is not one of this organisation's.")
    return provider


def _email(provider: IdentityProvider, attributes: dict[str, str]) -> str:
    try:
        email = validate_email(attributes.get("email", ""))
    except ApplicationError as error:
        raise SignInRefused("Your identity provider did not send a valid email address.") from error
    if provider.email_domains and email.rpartition("@")[2] not in provider.email_domains:
        raise SignInRefused("Your email address is not in a domain this identity provider may sign in for.")
    return email


def pre_sign_up(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """PreSignUp: link a federated identity to the tenant's existing user of that email, or allow a new one."""
    if event.get("triggerSource") != "PreSignUp_ExternalProvider":
        return event
    tenant = _tenant(event)
    provider_name, _, subject = str(event.get("userName", "")).partition("_")
    provider = _provider(tenant, provider_name)
    email = _email(provider, (event.get("request") or {}).get("userAttributes") or {})
    record = user_get_by_email(tenant_id=tenant.tenant_id, email=email)
    if record is not None:
        if record.status is not UserStatus.ACTIVE:
            raise SignInRefused("Your account is disabled. Contact your organisation's administrator.")
        pool_id = tenant.identity["user_pool_id"]
        if cognito.user_attributes(pool_id, email):  # a sign-in to link to (LTI's people have a record only)
            cognito.link_provider_for_user(pool_id, email, provider_name=provider.provider_name, subject=subject)
        audit(tenant.tenant_id, "sso.user_linked", f"sso:{provider.provider_name}", email=email, user_id=record.user_id)
    else:
        seats = seats_of(tenant_id=tenant.tenant_id)
        if seats is not None and repository.counts(tenant.tenant_id)[0] >= seats:
            raise SignInRefused("Every seat of your organisation's plan is taken. Contact your administrator.")
    event.setdefault("response", {})
    return event


def post_confirmation(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """PostConfirmation: the federated user's tenant, role and group, and its CloudKida record."""
    if event.get("triggerSource") != "PostConfirmation_ConfirmSignUp":
        return event
    attributes = (event.get("request") or {}).get("userAttributes") or {}
    identities = cognito.linked_identities(attributes)
    if not identities:
        return event  # a person who signed up with a password: not federated
    tenant = _tenant(event)
    provider = _provider(tenant, str(identities[0].get("providerName", "")))
    email = _email(provider, attributes)
    record = user_get_by_email(tenant_id=tenant.tenant_id, email=email)
    role = record.role.value if record else Role(provider.default_role).value
    cognito.set_tenant_attributes(
        tenant.identity["user_pool_id"],
        event["userName"],
        tenant_id=tenant.tenant_id,
        role=role,
        group=tenant.identity.get("group"),
    )
    if record is None:
        try:
            record = user_create(
                tenant_id=tenant.tenant_id,
                email=email,
                name=attributes.get("name") or email,
                role=Role(role),
                user_id=attributes.get("sub") or None,
            )
        except Conflict as error:  # the same person's second trigger run (a retry): the record exists
            if error.code != "already_exists":
                raise SignInRefused(error.message) from error
            record = user_get_by_email(tenant_id=tenant.tenant_id, email=email)
        except ApplicationError as error:  # a seat taken since PreSignUp (402), an invalid name…
            raise SignInRefused(error.message) from error
        else:
            audit(
                tenant.tenant_id,
                "sso.user_created",
                f"sso:{provider.provider_name}",
                email=email,
                role=role,
                user_id=record.user_id,
            )
    return event
