"""The tool's endpoints the learning platform calls: OIDC login initiation, the launch, our JWKS; and the
instructor's deep-linking page (choose a lab, go back to the course with it)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from csp.decorators import csp_update
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pylti1p3.contrib.django import DjangoOIDCLogin
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.lineitem import LineItem

from accounts.domain import Role
from accounts.portal import SESSION_KEY
from cloudkida import clock
from cloudkida.errors import ApplicationError
from labs.domain import LabStatus
from labs.lti import platforms, services, tool
from labs.selectors import lab_catalog, lab_get_any

logger = logging.getLogger(__name__)
SESSION_SECONDS = 8 * 3600


def _refused(request, message: str, status: int = 403):
    return render(request, "errors/error.html", {"status": status, "message": message}, status=status)


def _storage() -> tool.DynamoLaunchDataStorage:
    return tool.DynamoLaunchDataStorage()


@csrf_exempt  # the platform starts the login cross-site, without our CSRF token
@require_http_methods(["GET", "POST"])
def lti_login(request):
    if request.tenant is None:
        return _refused(request, "Launch CloudKida from your organisation's address.", 404)
    try:
        login = DjangoOIDCLogin(request, tool.RepoToolConf(), launch_data_storage=_storage())
        return login.redirect(
            request.build_absolute_uri("/lti/launch")
        )  # never the platform's target: no open redirect
    except (OIDCException, LtiException) as error:
        return _refused(request, f"The learning platform's sign-in could not start: {error}", 400)
    except ApplicationError as error:
        return _refused(request, error.message, error.status)


def _sign_in(request, landing: services.Landing) -> None:
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "tenant_id": landing.tenant_id,
        "sub": landing.user_id,
        "email": landing.email,
        "name": landing.name,
        "user_id": landing.user_id,
        "expires_at": int(clock.now().timestamp()) + SESSION_SECONDS,
        "via": "lti",
    }


@csrf_exempt
@xframe_options_exempt  # platforms show tools in an iframe
@require_POST
def lti_launch(request):
    if request.tenant is None:
        return _refused(request, "Launch CloudKida from your organisation's address.", 404)
    try:
        launch = tool.CloudKidaLaunch(request, tool.RepoToolConf(), launch_data_storage=_storage())
        claims = launch.get_launch_data()
    except LtiException as error:
        logger.warning("lti launch refused", extra={"reason": str(error)})
        return _refused(request, f"The launch could not be verified: {error}")
    except ApplicationError as error:
        return _refused(request, error.message, error.status)
    platform = platforms.lti_platform_find(claims["iss"], launch.get_client_id())
    if platform is None:
        return _refused(request, "This learning platform is not registered.")
    try:
        landing = services.launch_land(platform=platform, tenant_id=request.tenant.tenant_id, claims=claims)
    except ApplicationError as error:
        return _refused(request, error.message, error.status)
    _sign_in(request, landing)
    if launch.is_deep_link_launch():
        labs = [
            e.lab
            for e in lab_catalog(tenant_id=landing.tenant_id, user_id="", role=Role.TENANT_ADMIN)
            if e.enabled and e.lab.status is LabStatus.PUBLISHED
        ]
        return render(request, "lti/deep_link.html", {"launch_id": launch.get_launch_id(), "labs": labs})
    return HttpResponseRedirect(f"/labs/{landing.lab_id}/" if landing.lab_id else "/labs/")


@require_GET
def lti_jwks(request):
    try:
        return JsonResponse(tool.RepoToolConf().get_jwks())
    except ApplicationError as error:
        return JsonResponse({"code": error.code, "message": error.message}, status=error.status)


@csrf_exempt  # the form comes from our own deep-linking page inside the platform's iframe
@xframe_options_exempt
@require_POST
def lti_deep_link(request, launch_id: str):
    """The instructor chose a lab: a signed deep-linking response back to the course."""
    if request.tenant is None:
        return _refused(request, "Not found.", 404)
    try:
        launch = tool.CloudKidaLaunch.from_cache(
            launch_id, request, tool.RepoToolConf(), launch_data_storage=_storage()
        )
    except LtiException:
        return _refused(request, "The launch has expired; start again from the course.")
    claims = launch.get_launch_data()
    platform = platforms.lti_platform_find(claims["iss"], launch.get_client_id())
    if platform is None or platform.tenant_id != request.tenant.tenant_id or not launch.is_deep_link_launch():
        return _refused(request, "The launch does not belong to this organisation.")
    try:
        lab = lab_get_any(tenant_id=request.tenant.tenant_id, lab_id=request.POST.get("lab_id", ""))
    except ApplicationError as error:
        return _refused(request, error.message, error.status)
    resource = (
        DeepLinkResource()
        .set_url(request.build_absolute_uri("/lti/launch"))
        .set_title(lab.title)
        .set_custom_params({"lab_id": lab.lab_id})
        .set_lineitem(
            LineItem().set_tag(f"lab:{lab.lab_id}").set_score_maximum(max(1, len(lab.tasks))).set_label(lab.title)
        )
    )
    deep_link = launch.get_deep_link()
    jwt_value = deep_link.get_response_jwt([resource])
    return_url = claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]["deep_link_return_url"]
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(return_url))
    view = csp_update({"form-action": [origin]})(
        lambda r: render(r, "lti/deep_link_return.html", {"return_url": return_url, "jwt": jwt_value})
    )
    return view(request)
