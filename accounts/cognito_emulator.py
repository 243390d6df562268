"""Development and tests only: Cognito's hosted UI, emulated over the Cognito API of the local emulator.

moto implements Cognito's API (sign-in with a temporary password, NEW_PASSWORD_REQUIRED, refresh,
forgot-password, JWKS) but not the hosted UI's web front end. These views supply it under
``/_cognito/<domain>/`` with Cognito's own paths (``oauth2/authorize``, ``login``, ``oauth2/token``,
``logout``, ``forgotPassword``), so the portal signs users in exactly as in production: authorization code
+ PKCE against the tenant's app client, and the tokens it gets are the pool's own (the ID token re-signed
with moto's key only to add the ``nonce`` and ``at_hash`` a real hosted UI adds). Pages carry the tenant's
branding, as Cognito's per-client UI customisation does in production. Mounted only when
``CLOUDKIDA_COGNITO_EMULATOR`` is on, which production refuses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from urllib.parse import urlencode

import requests
from botocore.exceptions import ClientError
from django.conf import settings
from django.core.cache import caches
from django.core.mail import send_mail
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import cognito as users
from accounts.integrations import federation, sso
from accounts.integrations.domain import ProviderType
from cloudkida import aws, clock
from cloudkida.identity.jwks import jwks_url
from cloudkida.lazy import lazy_module
from tenants.selectors import tenant_for_client, tenant_get_cached
from tenants.theme import theme_css

jwt = lazy_module("jwt")

SESSION_COOKIE = "cognito_emulator_session"
_OAUTH = (
    "client_id",
    "redirect_uri",
    "response_type",
    "state",
    "scope",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


def _cache():
    return caches["cognito_emulator"]


def _moto_key():
    from moto.utilities.utils import load_resource  # lazy: moto is a development dependency, never packaged

    return jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json"), algorithm="RS256").key


def _cognito():
    return aws.client("cognito-idp")


def _pool_of(domain: str) -> str:
    try:
        described = _cognito().describe_user_pool_domain(Domain=domain)["DomainDescription"]
    except ClientError:
        return ""
    return described.get("UserPoolId", "")


def _client(pool_id: str, client_id: str) -> dict | None:
    if not pool_id or not client_id:
        return None
    try:
        return _cognito().describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]
    except ClientError:
        return None


def _branding(client_id: str) -> dict:
    tenant_id = tenant_for_client(client_id=client_id)
    if not tenant_id:
        return {"display_name": "CloudKida"}
    tenant = tenant_get_cached(tenant_id=tenant_id)
    return {"display_name": tenant.name, **{k: v for k, v in (tenant.branding or {}).items() if v}}


def _params(source) -> dict[str, str]:
    return {k: source.get(k, "") for k in _OAUTH}


def _checked(request, domain: str, source) -> tuple[dict, dict, str] | HttpResponseBadRequest:
    """The OAuth parameters, the app client and the pool, if the request is one Cognito would accept."""
    params = _params(source)
    pool_id = _pool_of(domain)
    client = _client(pool_id, params["client_id"])
    if client is None:
        return HttpResponseBadRequest("invalid client_id")
    if params["response_type"] != "code" or params["redirect_uri"] not in client.get("CallbackURLs", []):
        return HttpResponseBadRequest("redirect_mismatch")
    if params["code_challenge"] and params["code_challenge_method"] != "S256":
        return HttpResponseBadRequest("unsupported code_challenge_method")
    return params, client, pool_id


def _page(request, template: str, domain: str, params: dict, *, status: int = 200, **extra):
    providers = _offered(params["client_id"], _pool_of(domain)) if template == "login.html" else []
    context = {
        "providers": [{"name": p.provider_name, "display_name": p.display_name} for p in providers],
        "domain": domain,
        "params": params,
        "query": urlencode(params),
        "brand": _branding(params["client_id"]),
        "theme_url": f"/_cognito/{domain}/theme.css?client_id={params['client_id']}",
        **extra,
    }
    return render(request, f"cognito/{template}", context, status=status)


def _half_hash(value: str) -> str:
    digest = hashlib.sha256(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def _finish(request, domain: str, params: dict, client: dict, result: dict, username: str):
    """Issue a one-time authorization code for the tokens, remember the sign-in, redirect back."""
    claims = jwt.decode(result["IdToken"], options={"verify_signature": False})
    if params["nonce"]:
        claims["nonce"] = params["nonce"]
    claims["at_hash"] = _half_hash(result["AccessToken"])
    id_token = jwt.encode(claims, _moto_key(), "RS256", headers={"kid": "dummy"})
    code = secrets.token_urlsafe(24)
    _cache().set(
        f"code:{code}",
        {
            "tokens": {**result, "IdToken": id_token},
            "client_id": client["ClientId"],
            "redirect_uri": params["redirect_uri"],
            "code_challenge": params["code_challenge"],
        },
        timeout=300,
    )
    query = {"code": code, **({"state": params["state"]} if params["state"] else {})}
    response = HttpResponseRedirect(f"{params['redirect_uri']}?{urlencode(query)}")
    if result.get("RefreshToken"):
        session = secrets.token_urlsafe(24)
        _cache().set(f"sso:{session}", {"username": username, "refresh": result["RefreshToken"]}, timeout=3600)
        response.set_cookie(f"{SESSION_COOKIE}_{domain}", session, max_age=3600, httponly=True, samesite="Lax")
    return response


@require_GET
def authorize(request, domain: str):
    checked = _checked(request, domain, request.GET)
    if isinstance(checked, HttpResponseBadRequest):
        return checked
    params, client, pool_id = checked
    wanted, identifier = request.GET.get("identity_provider", ""), request.GET.get("idp_identifier", "")
    if wanted == "COGNITO":  # the pool's own sign-in, as on Cognito
        wanted = ""
    if wanted or identifier:
        provider = _chosen(client, pool_id, name=wanted, identifier=identifier)
        if provider is None:
            return _page(
                request, "login.html", domain, params, status=400, error="This identity provider is not available here."
            )
        return _federate(request, domain, params, provider)
    remembered = _cache().get(f"sso:{request.COOKIES.get(f'{SESSION_COOKIE}_{domain}', '')}")
    if remembered:  # like Cognito's own session: signed in already, no form
        try:
            result = _cognito().initiate_auth(
                ClientId=client["ClientId"],
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": remembered["refresh"]},
            )["AuthenticationResult"]
        except ClientError:
            pass  # revoked (a global sign-out): ask again
        else:
            return _finish(
                request,
                domain,
                params,
                client,
                {**result, "RefreshToken": remembered["refresh"]},
                remembered["username"],
            )
    return _page(request, "login.html", domain, params)


@require_POST
def login(request, domain: str):
    checked = _checked(request, domain, request.POST)
    if isinstance(checked, HttpResponseBadRequest):
        return checked
    params, client, pool_id = checked
    username = request.POST.get("username", "").strip().lower()
    password = request.POST.get("password", "")
    corporate = request.POST.get("idp_email", "").strip().lower()
    if corporate:  # home-realm discovery, as Cognito's "corporate email" field: the domain picks the provider
        realm = _chosen(client, pool_id, identifier=corporate.rpartition("@")[2])
        if realm is None:
            return _page(
                request, "login.html", domain, params, status=400, error="No identity provider signs in that address."
            )
        return _federate(request, domain, params, realm)
    try:
        answer = _cognito().initiate_auth(
            ClientId=client["ClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except ClientError as error:
        message = "Incorrect username or password."
        if "disabled" in error.response["Error"].get("Message", "").lower():
            message = "Your account is disabled. Contact your organisation's administrator."
        return _page(request, "login.html", domain, params, status=400, error=message, username=username)
    if answer.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
        challenge = secrets.token_urlsafe(16)
        _cache().set(f"challenge:{challenge}", {"session": answer["Session"], "username": username}, timeout=180)
        return _page(request, "new_password.html", domain, params, challenge=challenge)
    return _finish(request, domain, params, client, answer["AuthenticationResult"], username)


@require_POST
def new_password(request, domain: str):
    checked = _checked(request, domain, request.POST)
    if isinstance(checked, HttpResponseBadRequest):
        return checked
    params, client, _pool = checked
    challenge = request.POST.get("challenge", "")
    pending = _cache().get(f"challenge:{challenge}")
    if not pending:
        return _page(request, "login.html", domain, params, status=400, error="Your session expired. Sign in again.")
    chosen = request.POST.get("new_password", "")
    if chosen != request.POST.get("confirm_password", ""):
        return _page(
            request,
            "new_password.html",
            domain,
            params,
            status=400,
            challenge=challenge,
            error="The two passwords differ.",
        )
    try:
        result = _cognito().respond_to_auth_challenge(
            ClientId=client["ClientId"],
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=pending["session"],
            ChallengeResponses={"USERNAME": pending["username"], "NEW_PASSWORD": chosen},
        )["AuthenticationResult"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "InvalidPasswordException":
            return _page(
                request, "login.html", domain, params, status=400, error="Your session expired. Sign in again."
            )
        return _page(
            request,
            "new_password.html",
            domain,
            params,
            status=400,
            challenge=challenge,
            error="Choose a password of at least 12 characters with upper- and lower-case letters and a digit.",
        )
    _cache().delete(f"challenge:{challenge}")
    return _finish(request, domain, params, client, result, pending["username"])


# --- federation ------------------------------------------------------------------------------------------------
class FederationFailed(Exception):
    """The federated sign-in cannot finish (the message is shown on the hosted page)."""


def _offered(client_id: str, pool_id: str) -> list:
    """The client's own OIDC providers, as its SupportedIdentityProviders name them."""
    client = _client(pool_id, client_id)
    if client is None:
        return []
    supported = set(client.get("SupportedIdentityProviders") or [])
    return [
        p
        for p in sso.providers_for_client(client_id=client_id)
        if p.provider_name in supported and p.provider_type is ProviderType.OIDC
    ]


def _chosen(client: dict, pool_id: str, *, name: str = "", identifier: str = ""):
    """The provider asked for by name or by identifier (an email domain), if this client offers it."""
    for provider in _offered(client["ClientId"], pool_id):
        if (name and provider.provider_name == name) or (identifier and identifier.lower() in provider.email_domains):
            return provider
    return None


def _discovery(issuer: str) -> dict:
    response = requests.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout=5)
    response.raise_for_status()
    return response.json()


def _idp_callback(domain: str) -> str:
    return f"{settings.CLOUDKIDA_COGNITO_EMULATOR_URL.rstrip('/')}/{domain}/oauth2/idpresponse"


def _federate(request, domain: str, params: dict, provider):
    """Send the browser to the organisation's identity provider (authorization code, state, nonce)."""
    try:
        endpoint = _discovery(provider.issuer)["authorization_endpoint"]
    except (requests.RequestException, ValueError, KeyError):
        return _page(
            request, "login.html", domain, params, status=502, error="Your identity provider is not answering."
        )
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    _cache().set(
        f"idp:{state}",
        {"params": params, "provider": provider.provider_name, "nonce": nonce, "domain": domain},
        timeout=600,
    )
    query = {
        "client_id": provider.client_id,
        "redirect_uri": _idp_callback(domain),
        "response_type": "code",
        "scope": "openid email profile",
        "state": state,
        "nonce": nonce,
    }
    return HttpResponseRedirect(f"{endpoint}?{urlencode(query)}")


def _id_token_claims(provider, details: dict, code: str, domain: str, nonce: str) -> dict:
    """Exchange the code with the client secret Cognito holds; verify the ID token (JWKS, iss, aud, nonce)."""
    discovery = _discovery(provider.issuer)
    methods = discovery.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": _idp_callback(domain)}
    auth = None
    if "client_secret_post" in methods and "client_secret_basic" not in methods:
        form.update(client_id=details.get("client_id", ""), client_secret=details.get("client_secret", ""))
    else:
        auth = (details.get("client_id", ""), details.get("client_secret", ""))
    answer = requests.post(discovery["token_endpoint"], data=form, auth=auth, timeout=5)
    if answer.status_code != 200:
        raise FederationFailed("Your identity provider refused the sign-in.")
    id_token = answer.json().get("id_token", "")
    keys = requests.get(discovery["jwks_uri"], timeout=5).json().get("keys", [])
    kid = jwt.get_unverified_header(id_token).get("kid")
    matching = [k for k in keys if k.get("use", "sig") == "sig" and (kid is None or k.get("kid") == kid)]
    if len(matching) != 1:
        raise FederationFailed("We could not verify your identity provider's answer.")
    try:
        claims = jwt.decode(
            id_token,
            jwt.PyJWK(matching[0], algorithm="RS256").key,
            algorithms=["RS256"],
            audience=provider.client_id,
            issuer=provider.issuer,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as error:
        raise FederationFailed("We could not verify your identity provider's answer.") from error
    if claims.get("nonce") != nonce:
        raise FederationFailed("We could not verify your identity provider's answer.")
    return claims


def _mapped(provider, claims: dict) -> dict[str, str]:
    """Cognito's attribute mapping: only email and name ever come from the identity provider."""
    attributes = {}
    for attribute in sso.MAPPABLE:
        value = claims.get(provider.attribute_mapping.get(attribute, attribute))
        if isinstance(value, str) and value:
            attributes[attribute] = value.strip().lower() if attribute == "email" else value.strip()
    return attributes


def _trigger(source: str, pool_id: str, client_id: str, username: str, attributes: dict[str, str]) -> dict:
    """Run a Cognito trigger with Cognito's event shape; a refusal is what Cognito shows the person."""
    event = {
        "version": "1",
        "region": settings.AWS_REGION,
        "userPoolId": pool_id,
        "userName": username,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id},
        "triggerSource": source,
        "request": {"userAttributes": dict(attributes), **({"validationData": None} if "PreSignUp" in source else {})},
        "response": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False}
        if "PreSignUp" in source
        else {},
    }
    try:
        return federation.run_trigger(event)
    except federation.SignInRefused as refused:
        raise FederationFailed(str(refused)) from refused


def _is_linked(attributes: dict[str, str], provider_name: str, subject: str) -> bool:
    return any(
        i.get("providerName") == provider_name and str(i.get("userId")) == subject
        for i in users.linked_identities(attributes)
    )


def _federated_user(pool_id: str, client_id: str, provider, subject: str, attributes: dict[str, str]) -> str:
    """The pool user this federated identity signs in as (made, or linked, on its first sign-in)."""
    email = attributes.get("email", "")
    if not email:
        raise FederationFailed("Your identity provider did not send an email address.")
    existing = users.user_attributes(pool_id, email)
    if existing and _is_linked(existing, provider.provider_name, subject):
        return email
    _trigger("PreSignUp_ExternalProvider", pool_id, client_id, f"{provider.provider_name}_{subject}", attributes)
    existing = users.user_attributes(pool_id, email)
    if existing:
        if _is_linked(existing, provider.provider_name, subject):  # the trigger linked an existing user
            return email
        raise FederationFailed("This email address already signs in to another CloudKida organisation.")
    identity = {
        "userId": subject,
        "providerName": provider.provider_name,
        "providerType": "OIDC",
        "issuer": None,
        "primary": "true",
        "dateCreated": str(int(clock.now().timestamp() * 1000)),
    }
    created = _cognito().admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "name", "Value": attributes.get("name") or email},
            {"Name": "identities", "Value": json.dumps([identity])},
        ],
    )["User"]
    made = {a["Name"]: a["Value"] for a in created["Attributes"]}
    try:
        _trigger(
            "PostConfirmation_ConfirmSignUp",
            pool_id,
            client_id,
            created["Username"],
            {**made, "cognito:user_status": "EXTERNAL_PROVIDER"},
        )
    except Exception:
        users.remove_users(pool_id, [email])  # as Cognito: a failed trigger leaves no user behind
        raise
    return email


@require_GET
def idp_response(request, domain: str):
    """The identity provider's redirect back (Cognito's ``/oauth2/idpresponse``): finish the sign-in."""
    entry = _cache().get(f"idp:{request.GET.get('state', '')}")
    _cache().delete(f"idp:{request.GET.get('state', '')}")  # a state works once
    if not entry or entry["domain"] != domain:
        return HttpResponseBadRequest("invalid state")
    params = entry["params"]
    pool_id = _pool_of(domain)
    client = _client(pool_id, params["client_id"])
    if client is None:
        return HttpResponseBadRequest("invalid client_id")
    provider = _chosen(client, pool_id, name=entry["provider"])
    if provider is None:
        return _page(
            request, "login.html", domain, params, status=400, error="This identity provider is not available here."
        )
    if request.GET.get("error") or not request.GET.get("code"):
        return _page(
            request, "login.html", domain, params, status=400, error="Your identity provider did not sign you in."
        )
    try:
        details = users.identity_provider_details(pool_id, provider.provider_name)
        claims = _id_token_claims(provider, details, request.GET["code"], domain, entry["nonce"])
        username = _federated_user(pool_id, client["ClientId"], provider, str(claims["sub"]), _mapped(provider, claims))
        password = f"Fed-{secrets.token_urlsafe(18)}-9aZ"
        _cognito().admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)
        result = _cognito().admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client["ClientId"],
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )["AuthenticationResult"]
    except FederationFailed as failed:
        return _page(request, "login.html", domain, params, status=403, error=str(failed))
    except requests.RequestException:
        return _page(
            request, "login.html", domain, params, status=502, error="Your identity provider is not answering."
        )
    except ClientError as error:
        message = "We could not sign you in."
        if "disabled" in error.response["Error"].get("Message", "").lower():
            message = "Your account is disabled. Contact your organisation's administrator."
        return _page(request, "login.html", domain, params, status=403, error=message)
    return _finish(request, domain, params, client, result, username)


@require_http_methods(["GET", "POST"])
def forgot_password(request, domain: str):
    source = request.POST if request.method == "POST" else request.GET
    checked = _checked(request, domain, source)
    if isinstance(checked, HttpResponseBadRequest):
        return checked
    params, client, _pool = checked
    if request.method == "GET":
        return _page(request, "forgot.html", domain, params)
    username = request.POST.get("username", "").strip().lower()
    try:
        answer = _cognito().forgot_password(ClientId=client["ClientId"], Username=username)
        code = answer["ResponseMetadata"]["HTTPHeaders"].get("x-moto-forgot-password-confirmation-code", "")
    except ClientError:
        code = ""  # never tell whether the address exists
    if code:  # what Cognito would email: the emulator delivers it through the platform's mail backend
        brand = _branding(params["client_id"])
        send_mail(
            subject=f"Your {brand['display_name']} verification code",
            message=f"Your verification code is {code}\n\nEnter it on the page where you asked to reset your password.",
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[username],
        )
    return _page(request, "confirm_forgot.html", domain, params, username=username)


@require_POST
def confirm_forgot_password(request, domain: str):
    checked = _checked(request, domain, request.POST)
    if isinstance(checked, HttpResponseBadRequest):
        return checked
    params, client, _pool = checked
    username = request.POST.get("username", "")
    try:
        _cognito().confirm_forgot_password(
            ClientId=client["ClientId"],
            Username=username,
            ConfirmationCode=request.POST.get("code", "").strip(),
            Password=request.POST.get("password", ""),
        )
    except ClientError:
        return _page(
            request,
            "confirm_forgot.html",
            domain,
            params,
            status=400,
            username=username,
            error="That code is not valid any more, or the password is too weak. Ask for a new code.",
        )
    return _page(
        request, "login.html", domain, params, notice="Your password was changed. Sign in with it.", username=username
    )


@csrf_exempt
@require_POST
def token(request, domain: str):
    """Exchange a one-time code (PKCE-checked) for the tokens; public clients only, as the portal's are."""
    client = _client(_pool_of(domain), request.POST.get("client_id", ""))
    if client is None or client.get("ClientSecret"):
        return JsonResponse({"error": "invalid_client"}, status=401)
    if request.POST.get("grant_type") != "authorization_code":
        return JsonResponse({"error": "unsupported_grant_type"}, status=400)
    entry = _cache().get(f"code:{request.POST.get('code', '')}")
    _cache().delete(f"code:{request.POST.get('code', '')}")  # a code works once
    if (
        not entry
        or entry["client_id"] != client["ClientId"]
        or entry["redirect_uri"] != request.POST.get("redirect_uri")
    ):
        return JsonResponse({"error": "invalid_grant"}, status=400)
    if entry["code_challenge"]:
        verifier = request.POST.get("code_verifier", "")
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not hmac.compare_digest(computed, entry["code_challenge"]):
            return JsonResponse({"error": "invalid_grant"}, status=400)
    tokens = entry["tokens"]
    return JsonResponse(
        {
            "id_token": tokens["IdToken"],
            "access_token": tokens["AccessToken"],
            "refresh_token": tokens.get("RefreshToken", ""),
            "expires_in": tokens.get("ExpiresIn", 3600),
            "token_type": "Bearer",
        }
    )


@require_GET
def logout(request, domain: str):
    """End the hosted UI's own session and go back to one of the client's logout URLs."""
    client = _client(_pool_of(domain), request.GET.get("client_id", ""))
    target = request.GET.get("logout_uri", "")
    if client is None or target not in client.get("LogoutURLs", []):
        return HttpResponseBadRequest("invalid logout_uri")
    cookie = f"{SESSION_COOKIE}_{domain}"
    _cache().delete(f"sso:{request.COOKIES.get(cookie, '')}")
    response = HttpResponseRedirect(target)
    response.delete_cookie(cookie)
    return response


@require_GET
def theme(request, domain: str):
    """The tenant's colours for the hosted pages (the same theme the tenant's portal uses)."""
    return HttpResponse(theme_css(_branding(request.GET.get("client_id", ""))), content_type="text/css")


@require_GET
def openid_configuration(request, domain: str):
    pool_id = _pool_of(domain)
    base = f"{settings.CLOUDKIDA_COGNITO_EMULATOR_URL.rstrip('/')}/{domain}"
    issuer = f"https://cognito-idp.{settings.AWS_REGION}.amazonaws.com/{pool_id}"
    return JsonResponse(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{base}/oauth2/authorize",
            "token_endpoint": f"{base}/oauth2/token",
            "end_session_endpoint": f"{base}/logout",
            "jwks_uri": jwks_url(issuer),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
        },
        json_dumps_params={"indent": None},
    )


urlpatterns = [
    path("_cognito/<str:domain>/oauth2/authorize", authorize, name="cognito-authorize"),
    path("_cognito/<str:domain>/login", login, name="cognito-login"),
    path("_cognito/<str:domain>/new-password", new_password, name="cognito-new-password"),
    path("_cognito/<str:domain>/forgotPassword", forgot_password, name="cognito-forgot"),
    path("_cognito/<str:domain>/confirmForgotPassword", confirm_forgot_password, name="cognito-confirm-forgot"),
    path("_cognito/<str:domain>/oauth2/token", token, name="cognito-token"),
    path("_cognito/<str:domain>/oauth2/idpresponse", idp_response, name="cognito-idp-response"),
    path("_cognito/<str:domain>/logout", logout, name="cognito-logout"),
    path("_cognito/<str:domain>/.well-known/openid-configuration", openid_configuration, name="cognito-discovery"),
    path("_cognito/<str:domain>/theme.css", theme, name="cognito-theme"),
]
