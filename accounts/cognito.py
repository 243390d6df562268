"""The tenant's people in Cognito: sign-ins in the pooled pool (with the tenant's group) or in a Platinum
tenant's own pool. Usernames are email addresses; the ``sub`` is the user id in our records.

Every call here is idempotent, so services can bring Cognito in line with a record by calling again.
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError
from django.conf import settings

from cloudkida import aws

NEVER_SIGNED_IN = "FORCE_CHANGE_PASSWORD"

_GONE = {"UserNotFoundException", "ResourceNotFoundException"}


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


class EmailTaken(Exception):
    """The address already signs in to another organisation in the same pool."""


def ensure_user(
    pool_id: str, *, tenant_id: str, email: str, name: str, role: str, group: str | None, temporary_password: str
) -> tuple[str, bool]:
    """The tenant user in Cognito with ``temporary_password`` (Cognito sends nothing: CloudKida emails the
    invitation); returns its ``sub`` and whether that password is now the one to send.

    A retry that finds the user still waiting for its first sign-in gives it the new temporary password
    (so a lost invitation can be sent again); a user who already chose a password is left alone.
    Raises EmailTaken for an address that already belongs to another tenant in the same pool.
    """
    cognito = aws.client("cognito-idp")
    try:
        user = cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            TemporaryPassword=temporary_password,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": name or email},
                {"Name": "custom:tenantId", "Value": tenant_id},
                {"Name": "custom:userRole", "Value": role},
            ],
        )["User"]
        attributes = {a["Name"]: a["Value"] for a in user["Attributes"]}
        fresh = True
    except ClientError as error:
        if _code(error) != "UsernameExistsException":
            raise
        attributes = user_attributes(pool_id, email)
        if attributes.get("custom:tenantId") != tenant_id:
            raise EmailTaken(email) from error
        fresh = reset_temporary_password(pool_id, email, temporary_password)
    if group:
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
    return attributes.get("sub", ""), fresh


def reset_temporary_password(pool_id: str, username: str, temporary_password: str) -> bool:
    """Give a user who never signed in a new temporary password (a re-sent invitation); the first
    sign-in with it must still choose a new one. False (nothing changed) for a user who chose a password.

    (Not ``AdminCreateUser(MessageAction=RESEND)``: Cognito would email its own message, and moto makes a
    second user of it in pools that sign in by email.)
    """
    cognito = aws.client("cognito-idp")
    found = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    if found.get("UserStatus") != NEVER_SIGNED_IN:
        return False
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=temporary_password, Permanent=False)
    return True


def user_attributes(pool_id: str, username: str) -> dict[str, str]:
    """The user's attributes, or {} if the pool has no such user."""
    try:
        found = aws.client("cognito-idp").admin_get_user(UserPoolId=pool_id, Username=username)
    except ClientError as error:
        if _code(error) in _GONE:
            return {}
        raise
    return {a["Name"]: a["Value"] for a in found["UserAttributes"]}


def set_role(pool_id: str, username: str, role: str) -> None:
    """Write the role attribute and end the user's sessions, so no refresh token outlives the change."""
    cognito = aws.client("cognito-idp")
    cognito.admin_update_user_attributes(
        UserPoolId=pool_id, Username=username, UserAttributes=[{"Name": "custom:userRole", "Value": role}]
    )
    cognito.admin_user_global_sign_out(UserPoolId=pool_id, Username=username)


def set_enabled(pool_id: str, usernames: list[str], *, enabled: bool) -> None:
    """Enable, or disable and sign out, each user (already gone users are skipped)."""
    cognito = aws.client("cognito-idp")
    for username in usernames:
        try:
            if enabled:
                cognito.admin_enable_user(UserPoolId=pool_id, Username=username)
            else:
                cognito.admin_disable_user(UserPoolId=pool_id, Username=username)
                cognito.admin_user_global_sign_out(UserPoolId=pool_id, Username=username)
        except ClientError as error:
            if _code(error) not in _GONE:
                raise


def remove_users(pool_id: str, usernames: list[str]) -> None:
    cognito = aws.client("cognito-idp")
    for username in usernames:
        try:
            cognito.admin_delete_user(UserPoolId=pool_id, Username=username)
        except ClientError as error:
            if _code(error) not in _GONE:
                raise


def group_usernames(pool_id: str, group: str) -> list[str]:
    """Usernames in a group (a pooled tenant's people in the pooled pool)."""
    cognito = aws.client("cognito-idp")
    names = []
    try:
        for page in cognito.get_paginator("list_users_in_group").paginate(UserPoolId=pool_id, GroupName=group):
            names += [u["Username"] for u in page["Users"]]
    except ClientError as error:
        if _code(error) not in _GONE:
            raise
    return names


def pool_usernames(pool_id: str) -> list[str]:
    """Every username in a pool (a Platinum tenant's own pool)."""
    cognito = aws.client("cognito-idp")
    names = []
    try:
        for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool_id):
            names += [u["Username"] for u in page["Users"]]
    except ClientError as error:
        if _code(error) not in _GONE:
            raise
    return names


# --- the tenant's own identity providers (single sign-on) --------------------------------------------------------
class ProviderRefused(Exception):
    """Cognito refused the provider's configuration (its message says why)."""


def create_identity_provider(
    pool_id: str,
    name: str,
    *,
    provider_type: str,
    details: dict[str, str],
    attribute_mapping: dict[str, str],
    identifiers: list[str],
) -> None:
    """CreateIdentityProvider on the pool; an existing one of that name (a retry) is brought up to date."""
    cognito = aws.client("cognito-idp")
    kwargs = {
        "UserPoolId": pool_id,
        "ProviderName": name,
        "ProviderDetails": details,
        "AttributeMapping": attribute_mapping,
        "IdpIdentifiers": identifiers,
    }
    try:
        cognito.create_identity_provider(ProviderType=provider_type, **kwargs)
    except ClientError as error:
        if _code(error) == "DuplicateProviderException":
            update_identity_provider(
                pool_id, name, details=details, attribute_mapping=attribute_mapping, identifiers=identifiers
            )
            return
        if _code(error) == "InvalidParameterException":
            raise ProviderRefused(error.response["Error"].get("Message", "")) from error
        raise


def identity_provider_details(pool_id: str, name: str) -> dict[str, str]:
    """The provider's ProviderDetails (its client secret included: callers never show them), {} if gone."""
    try:
        found = aws.client("cognito-idp").describe_identity_provider(UserPoolId=pool_id, ProviderName=name)
    except ClientError as error:
        if _code(error) in _GONE:
            return {}
        raise
    return dict(found["IdentityProvider"].get("ProviderDetails") or {})


def update_identity_provider(
    pool_id: str, name: str, *, details: dict[str, str], attribute_mapping: dict[str, str], identifiers: list[str]
) -> None:
    """UpdateIdentityProvider with the whole configuration (``details`` merged over what Cognito holds, so a
    client secret not given again is kept)."""
    merged = {**identity_provider_details(pool_id, name), **details}
    try:
        aws.client("cognito-idp").update_identity_provider(
            UserPoolId=pool_id,
            ProviderName=name,
            ProviderDetails=merged,
            AttributeMapping=attribute_mapping,
            IdpIdentifiers=identifiers,
        )
    except ClientError as error:
        if _code(error) == "InvalidParameterException":
            raise ProviderRefused(error.response["Error"].get("Message", "")) from error
        raise


def delete_identity_provider(pool_id: str, name: str) -> None:
    try:
        aws.client("cognito-idp").delete_identity_provider(UserPoolId=pool_id, ProviderName=name)
    except ClientError as error:
        if _code(error) not in _GONE:
            raise


def link_provider_for_user(pool_id: str, username: str, *, provider_name: str, subject: str) -> None:
    """Make the federated identity (``provider_name``, the IdP's ``sub``) sign in as the existing user
    ``username`` (AdminLinkProviderForUser).

    The local emulator (moto) does not implement the call: there the link is recorded as Cognito records
    one, in the user's ``identities`` attribute, which is what the hosted-UI emulation reads.
    """
    cognito = aws.client("cognito-idp")
    if not settings.CLOUDKIDA_COGNITO_EMULATOR:
        cognito.admin_link_provider_for_user(
            UserPoolId=pool_id,
            DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": username},
            SourceUser={
                "ProviderName": provider_name,
                "ProviderAttributeName": "Cognito_Subject",
                "ProviderAttributeValue": subject,
            },
        )
        return
    identities = linked_identities(user_attributes(pool_id, username))
    if any(i.get("providerName") == provider_name and i.get("userId") == subject for i in identities):
        return
    identities.append({"userId": subject, "providerName": provider_name, "providerType": "OIDC", "primary": "false"})
    cognito.admin_update_user_attributes(
        UserPoolId=pool_id, Username=username, UserAttributes=[{"Name": "identities", "Value": json.dumps(identities)}]
    )


def linked_identities(attributes: dict[str, str]) -> list[dict]:
    """The federated identities recorded on a user (Cognito's ``identities`` attribute)."""
    try:
        found = json.loads(attributes.get("identities") or "[]")
    except ValueError:
        return []
    return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []


def set_tenant_attributes(pool_id: str, username: str, *, tenant_id: str, role: str, group: str | None) -> None:
    """The tenant and role a federated user signs in with (never what the identity provider asserted)."""
    cognito = aws.client("cognito-idp")
    cognito.admin_update_user_attributes(
        UserPoolId=pool_id,
        Username=username,
        UserAttributes=[{"Name": "custom:tenantId", "Value": tenant_id}, {"Name": "custom:userRole", "Value": role}],
    )
    if group:
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)
