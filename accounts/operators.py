"""System admins and support staff sign in to the Django admin through the operations user pool — OIDC
(authorization code + PKCE) against its hosted UI, which requires MFA — never with a Django password.

No database is involved: the verified operator (subject, email) is kept in the signed-cookie session, and
every request rebuilds an unsaved ``User`` from it whose staff and superuser flags come from the operator's
*current* account in the operations pool (``custom:userRole``, enabled), read through the same short cache
as operator tokens, so a disabled or demoted operator loses the admin within
``CLOUDKIDA_AUTHZ_CACHE_SECONDS``. Locally and in tests the Django password login of `make run`'s demo admin
remains (``CLOUDKIDA_ADMIN_PASSWORD_LOGIN``); production refuses it. In development and tests the
operations pool's hosted UI is emulated over the same pool (``accounts.cognito_emulator``), as for tenants.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.oidc import TenantOIDCBackend, TenantSettingsMixin
from accounts.operator_session import SESSION_KEY
from accounts.tokens import _operator_role
from cloudkida.errors import ApplicationError, PermissionDenied
from cloudkida.identity.jwks import jwks_url
from cloudkida.lazy import lazy_module
from tenants import provisioning

jwt = lazy_module("jwt")

logger = logging.getLogger(__name__)


def operator_oidc() -> dict:
    """The operations pool's OIDC endpoints and console client: its hosted UI, or the hosted-UI emulation
    of the same pool and domain in development and tests (as for tenants)."""
    platform = provisioning.platform()
    issuer = provisioning.issuer_for(platform["operations_user_pool_id"])
    domain = platform.get("operations_domain", "")
    if settings.CLOUDKIDA_COGNITO_EMULATOR:
        hosted_ui = f"{settings.CLOUDKIDA_COGNITO_EMULATOR_URL.rstrip('/')}/{domain}"
    else:
        hosted_ui = provisioning.hosted_ui_url(domain)
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{hosted_ui}/oauth2/authorize",
        "token_endpoint": f"{hosted_ui}/oauth2/token",
        "jwks_uri": jwks_url(issuer),
        "client_id": platform.get("operations_client_id", ""),
        "client_secret": None,
    }


class OperatorSettingsMixin(TenantSettingsMixin):
    """The tenant login's settings, with the operations pool in place of a tenant's pool."""

    def get_settings(self, attr, *args):
        if attr.startswith(("OIDC_OP_", "OIDC_RP_CLIENT")) or attr == "OIDC_AUTHENTICATION_CALLBACK_URL":
            oidc = operator_oidc()
            values = {
                "OIDC_OP_AUTHORIZATION_ENDPOINT": oidc["authorization_endpoint"],
                "OIDC_OP_TOKEN_ENDPOINT": oidc["token_endpoint"],
                "OIDC_OP_USER_ENDPOINT": None,
                "OIDC_OP_JWKS_ENDPOINT": oidc["jwks_uri"],
                "OIDC_RP_CLIENT_ID": oidc["client_id"],
                "OIDC_RP_CLIENT_SECRET": oidc["client_secret"],
                "OIDC_AUTHENTICATION_CALLBACK_URL": "admin-oidc-callback",
            }
            if attr in values:
                return values[attr]
        self.tenant = _NO_TENANT
        try:
            return super().get_settings(attr, *args)
        finally:
            self.tenant = None


class _NoTenant:
    identity: dict = {}


_NO_TENANT = _NoTenant()


class OperatorOIDCBackend(OperatorSettingsMixin, TenantOIDCBackend):
    """Exchanges the code and verifies the ID token against the operations pool; never touches the ORM."""

    def __init__(self):
        self.tenant = None
        super(TenantOIDCBackend, self).__init__()

    def _verify_jws(self, payload, key):
        if jwt.get_unverified_header(payload).get("alg") != "RS256":
            raise SuspiciousOperation("Unexpected signing algorithm.")
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=["RS256"],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=operator_oidc()["issuer"],
                leeway=settings.CLOUDKIDA_TOKEN_LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise SuspiciousOperation(f"ID token refused: {error}") from error

    def verify_token(self, token, **kwargs):
        return super(TenantOIDCBackend, self).verify_token(token, **kwargs)  # signature, iss, aud, nonce

    def get_or_create_user(self, access_token, id_token, payload):
        email = str(payload.get("email", "")).lower()
        username = str(payload.get("cognito:username") or email)
        role = _operator_role({"username": username, "sub": payload["sub"]})  # NotAuthenticated if unknown
        if not role.is_platform:  # an account of the operations pool without an operator's role
            raise PermissionDenied("Not an operator.", code="not_an_operator")
        return {"sub": str(payload["sub"]), "username": username, "email": email, "expires_at": int(payload["exp"])}


def _refused(request, message: str, status: int):
    return render(request, "admin/operator_login_failed.html", {"message": message}, status=status)


class OperatorLoginView(OperatorSettingsMixin, OIDCAuthenticationRequestView):
    """Starts the code flow (PKCE, state, nonce) at the operations pool's hosted UI (MFA there)."""

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)

    def get(self, request):
        oidc = operator_oidc()
        if not oidc["client_id"]:
            return _refused(request, "The operations sign-in is not set up on this stage.", 503)
        self.OIDC_OP_AUTH_ENDPOINT = oidc["authorization_endpoint"]
        self.OIDC_RP_CLIENT_ID = oidc["client_id"]
        response = super().get(request)
        state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
        request.session["oidc_states"][state]["operator"] = True
        request.session.modified = True
        return response


class OperatorCallbackView(OperatorSettingsMixin, OIDCAuthenticationCallbackView):
    def get(self, request):
        states = request.session.get("oidc_states") or {}
        state = request.GET.get("state")
        entry = states.pop(state, None) if state else None
        request.session.modified = True
        if request.GET.get("error"):
            return _refused(request, "Sign-in was cancelled or refused by the identity provider.", 400)
        if not request.GET.get("code") or entry is None or not entry.get("operator"):
            return _refused(request, "Your sign-in expired or was not started here. Please try again.", 400)
        backend = OperatorOIDCBackend()
        try:
            operator = backend.authenticate(request, nonce=entry["nonce"], code_verifier=entry["code_verifier"])
        except ApplicationError as refused:
            logger.warning("operator login refused", extra={"code": refused.code})
            return _refused(request, "This account may not use the CloudKida operations site.", 403)
        except requests.RequestException as error:
            logger.warning("operations identity provider failure", extra={"reason": str(error)})
            return _refused(request, "The identity provider is not answering correctly. Please try later.", 502)
        except (SuspiciousOperation, jwt.PyJWTError, KeyError, ValueError) as error:
            logger.warning("operator id token refused", extra={"reason": str(error)})
            return _refused(request, "We could not verify your sign-in. Please try again.", 400)
        if not operator:
            return _refused(request, "We could not verify your sign-in. Please try again.", 400)
        next_url = request.session.get("oidc_login_next") or "/admin/"
        request.session.cycle_key()
        request.session.pop("oidc_states", None)
        request.session[SESSION_KEY] = operator
        return HttpResponseRedirect(
            next_url if next_url.startswith("/") and not next_url.startswith("//") else "/admin/"
        )
