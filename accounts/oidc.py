"""Browser login per tenant: mozilla-django-oidc, with every setting taken from the request's tenant.

Authorization code flow with PKCE (S256), state and nonce, against the tenant's Cognito hosted UI
(pooled pool for pooled tiers, its own pool for Platinum) — in development and tests its emulation over
the local emulator's Cognito (``accounts.cognito_emulator``), with the same pool, client and tokens. The
library does not check ``iss`` or
``aud``; we do, and refuse a token whose ``custom:tenantId`` is not this host's tenant. Tenant users
are not Django users: the verified claims go into the session (``accounts.portal.SESSION_KEY``).
Every identity-provider failure ends on a friendly page, never a 500.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils.encoding import smart_str
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.portal import SESSION_KEY
from accounts.selectors import user_get_by_email
from accounts.tokens import TENANT_CLAIM
from cloudkida.identity.jwks import jwks_url
from cloudkida.lazy import lazy_module
from tenants.domain import Tenant

jwt = lazy_module("jwt")

logger = logging.getLogger(__name__)


class LoginRefused(Exception):
    """The token is genuine but not acceptable on this tenant's host."""


class InactiveUser(LoginRefused):
    """The token is genuine and for this tenant, but names no active user of it."""


def tenant_oidc(tenant: Tenant) -> dict:
    """The OIDC endpoints and client of a tenant: its Cognito hosted UI (pooled pool or its own), or the
    hosted-UI emulation of the same pool and domain in development and tests."""
    identity = tenant.identity
    endpoints = {
        "authorization_endpoint": identity.get("authorization_endpoint", ""),
        "token_endpoint": identity.get("token_endpoint", ""),
        "end_session_endpoint": identity.get("logout_endpoint", ""),
    }
    if settings.CLOUDKIDA_COGNITO_EMULATOR and identity.get("hosted_ui_domain"):
        base = f"{settings.CLOUDKIDA_COGNITO_EMULATOR_URL.rstrip('/')}/{identity['hosted_ui_domain']}"
        endpoints = {
            "authorization_endpoint": f"{base}/oauth2/authorize",
            "token_endpoint": f"{base}/oauth2/token",
            "end_session_endpoint": f"{base}/logout",
        }
    return {
        "issuer": identity.get("issuer", ""),
        "jwks_uri": jwks_url(identity.get("issuer", "")),
        "client_id": identity.get("client_id", ""),
        "client_secret": None,  # public clients with PKCE: no secret to keep
        **endpoints,
    }


class TenantSettingsMixin:
    tenant: Tenant | None = None

    def get_settings(self, attr, *args):
        if self.tenant is not None:
            oidc = tenant_oidc(self.tenant)
            values = {
                "OIDC_OP_AUTHORIZATION_ENDPOINT": oidc["authorization_endpoint"],
                "OIDC_OP_TOKEN_ENDPOINT": oidc["token_endpoint"],
                "OIDC_OP_USER_ENDPOINT": None,
                "OIDC_OP_JWKS_ENDPOINT": oidc["jwks_uri"],
                "OIDC_RP_CLIENT_ID": oidc["client_id"],
                "OIDC_RP_CLIENT_SECRET": oidc["client_secret"],
                "OIDC_RP_SIGN_ALGO": "RS256",
                "OIDC_RP_IDP_SIGN_KEY": None,
                "OIDC_RP_SCOPES": "openid email profile",
                "OIDC_USE_PKCE": True,
                "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
                "OIDC_USE_NONCE": True,
                "OIDC_TOKEN_USE_BASIC_AUTH": False,
                "OIDC_TIMEOUT": settings.CLOUDKIDA_OIDC_TIMEOUT,
                "OIDC_VERIFY_SSL": True,
                "OIDC_PROXY": None,
                "OIDC_ALLOW_UNSECURED_JWT": False,
                "OIDC_STORE_ID_TOKEN": True,
                "OIDC_STORE_ACCESS_TOKEN": False,
                "OIDC_AUTH_REQUEST_EXTRA_PARAMS": {},
                "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc-callback",
            }
            if attr in values:
                return values[attr]
        elif attr.startswith(("OIDC_OP_", "OIDC_RP_")):
            raise ImproperlyConfigured(f"{attr} requested before the tenant is known")
        return import_from_settings(attr, *args)


class TenantOIDCBackend(TenantSettingsMixin, OIDCAuthenticationBackend):
    """Exchanges the code and verifies the ID token for one tenant; never touches the ORM."""

    def __init__(self, tenant: Tenant):
        self.tenant = tenant
        super().__init__()

    def retrieve_matching_jwk(self, token):
        response = requests.get(self.OIDC_OP_JWKS_ENDPOINT, timeout=settings.CLOUDKIDA_OIDC_TIMEOUT)
        response.raise_for_status()
        header = jwt.get_unverified_header(token)
        kid, alg = header.get("kid"), smart_str(header["alg"])
        keys = [
            k
            for k in response.json()["keys"]
            if k.get("use", "sig") == "sig" and k.get("alg", alg) == alg and (kid is None or k.get("kid") == kid)
        ]
        if len(keys) != 1:
            raise SuspiciousOperation("Could not find a unique matching JWK.")
        return jwt.PyJWK(keys[0], algorithm=alg)

    def _verify_jws(self, payload, key):
        if jwt.get_unverified_header(payload).get("alg") != "RS256":
            raise SuspiciousOperation("Unexpected signing algorithm.")
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=["RS256"],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=tenant_oidc(self.tenant)["issuer"],
                leeway=settings.CLOUDKIDA_TOKEN_LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise SuspiciousOperation(f"ID token refused: {error}") from error

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)  # signature, iss, aud, nonce
        audiences = payload["aud"] if isinstance(payload["aud"], list) else [payload["aud"]]
        if len(audiences) > 1 and payload.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("azp does not name this client")
        claimed = payload.get(TENANT_CLAIM)
        if claimed != self.tenant.tenant_id:
            raise LoginRefused(f"{TENANT_CLAIM}={claimed!r} on {self.tenant.tenant_id}")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        email = str(payload.get("email", "")).lower()
        record = user_get_by_email(tenant_id=self.tenant.tenant_id, email=email) if email else None
        if record is None or record.status.value != "ACTIVE":
            # Not a SuspiciousOperation, so the library's authenticate() lets it through to the callback view.
            raise InactiveUser(f"{email or payload['sub']} is not an active user of {self.tenant.tenant_id}")
        return {
            "tenant_id": self.tenant.tenant_id,
            "sub": str(payload["sub"]),
            "email": email,
            "name": payload.get("name") or record.name,
            "user_id": record.user_id,
            "expires_at": int(payload["exp"]),
        }

    def get_user(self, user_id):
        return None


def login_failed(request, message: str, status: int = 400):
    return render(request, "portal/login_failed.html", {"tenant": request.tenant, "message": message}, status=status)


def _require_tenant(request) -> None:
    if getattr(request, "tenant", None) is None:
        raise Http404("Sign-in happens on your organisation's own address.")


class LoginView(TenantSettingsMixin, OIDCAuthenticationRequestView):
    """Starts the authorization code flow (PKCE, state, nonce) at the tenant's identity provider."""

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)  # the library's __init__ reads global settings; ours come later

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.tenant = getattr(request, "tenant", None)

    def get(self, request):
        _require_tenant(request)
        oidc = tenant_oidc(self.tenant)
        if not oidc["client_id"] or not oidc["authorization_endpoint"]:
            return login_failed(request, "Sign-in is not set up for this organisation yet.", 503)
        self.OIDC_OP_AUTH_ENDPOINT = oidc["authorization_endpoint"]
        self.OIDC_RP_CLIENT_ID = oidc["client_id"]
        response = super().get(request)
        state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
        request.session["oidc_states"][state]["tenant"] = self.tenant.tenant_id
        request.session.modified = True
        return response


class CallbackView(TenantSettingsMixin, OIDCAuthenticationCallbackView):
    """Finishes the flow; every failure is a friendly page."""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.tenant = getattr(request, "tenant", None)

    def get(self, request):
        _require_tenant(request)
        states = request.session.get("oidc_states") or {}
        state = request.GET.get("state")
        entry = states.pop(state, None) if state else None
        request.session.modified = True
        if request.GET.get("error"):
            cancelled = request.GET["error"] == "access_denied"
            return login_failed(
                request,
                "Sign-in was cancelled."
                if cancelled
                else "Your identity provider reported a problem. Please try again.",
            )
        if not request.GET.get("code") or entry is None or entry.get("tenant") != self.tenant.tenant_id:
            return login_failed(request, "Your sign-in expired or was not started here. Please try again.")
        backend = TenantOIDCBackend(self.tenant)
        try:
            user = backend.authenticate(request, nonce=entry["nonce"], code_verifier=entry["code_verifier"])
        except InactiveUser as refused:
            logger.warning("login refused", extra={"reason": str(refused)})
            return login_failed(request, "Your account is not active in this organisation.", 403)
        except LoginRefused as refused:
            logger.warning("login refused", extra={"reason": str(refused)})
            return login_failed(request, "This account does not belong to this organisation.", 403)
        except (requests.RequestException, ValueError) as error:
            logger.warning("identity provider failure", extra={"reason": str(error)})
            return login_failed(request, "Your identity provider is not answering correctly. Please try later.", 502)
        except (SuspiciousOperation, jwt.PyJWTError, KeyError) as error:
            logger.warning("id token refused", extra={"reason": str(error)})
            return login_failed(request, "We could not verify your sign-in. Please try again.")
        if not user:
            return login_failed(request, "We could not verify your sign-in. Please try again.")
        id_token = request.session.get("oidc_id_token")
        next_url = request.session.get("oidc_login_next")
        request.session.cycle_key()
        request.session.pop("oidc_states", None)
        request.session[SESSION_KEY] = user
        request.session["oidc_id_token"] = id_token
        return HttpResponseRedirect(next_url or "/")


class LogoutView(View):
    """Ends the Django session, then the provider's session."""

    http_method_names = ["post"]

    def post(self, request):
        _require_tenant(request)
        id_token = request.session.get("oidc_id_token")
        request.session.flush()
        oidc = tenant_oidc(request.tenant)
        if not oidc["end_session_endpoint"]:
            return HttpResponseRedirect("/")
        params = {
            "client_id": oidc["client_id"],
            "post_logout_redirect_uri": request.build_absolute_uri("/"),
            "logout_uri": request.build_absolute_uri("/"),
        }
        if id_token:
            params["id_token_hint"] = id_token
        return HttpResponseRedirect(f"{oidc['end_session_endpoint']}?{urlencode(params)}")
