"""The composition root: the one module that imports every app's URLs."""

from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import cognito_emulator
from accounts.urls import api_urlpatterns as account_apis
from accounts.urls import page_urlpatterns as account_pages
from billing.urls import api_urlpatterns as billing_apis
from billing.urls import page_urlpatterns as billing_pages
from cloudkida.apis import ApiRootApi
from cloudkida.health import healthz
from cloudkida.lazy import lazy_view
from labs.urls import api_urlpatterns as lab_apis
from labs.urls import page_urlpatterns as lab_pages
from tenants.urls import api_urlpatterns as tenant_apis


def favicon(request):
    """The static favicon. Its URL is asked of the static files storage at the request, not at import:
    in production that storage is S3 (django-storages, boto3), which the first request need not load."""
    return HttpResponsePermanentRedirect(static("cloudkida/favicon.svg"))


api_v1 = [
    path("", ApiRootApi.as_view(), name="api-root"),
    # drf_spectacular.views is imported at the first request for the documents: no other request needs it.
    path("schema/", lazy_view("drf_spectacular.views.SpectacularAPIView", csrf_exempt=True), name="api-schema"),
    path(
        "docs/",
        lazy_view("drf_spectacular.views.SpectacularSwaggerView", csrf_exempt=True, url_name="api-schema"),
        name="api-docs",
    ),
    path(
        "redoc/",
        lazy_view("drf_spectacular.views.SpectacularRedocView", csrf_exempt=True, url_name="api-schema"),
        name="api-redoc",
    ),
    *tenant_apis,
    *account_apis,
    *lab_apis,
    *billing_apis,
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("api/docs", RedirectView.as_view(pattern_name="api-docs"), name="api-docs-short"),
    path("admin/oidc/login/", lazy_view("accounts.operators.OperatorLoginView"), name="admin-oidc-login"),
    path("admin/oidc/callback/", lazy_view("accounts.operators.OperatorCallbackView"), name="admin-oidc-callback"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("", include("tenants.page_urls")),
    path("", include(account_pages)),
    path("", include(lab_pages)),
    path("", include(billing_pages)),
]

urlpatterns += staticfiles_urlpatterns()  # local runs only: it serves nothing unless DEBUG is on

if settings.CLOUDKIDA_COGNITO_EMULATOR:  # development and tests only; production refuses the setting
    urlpatterns += cognito_emulator.urlpatterns

handler400 = "cloudkida.views.bad_request"
handler403 = "cloudkida.views.permission_denied"
handler404 = "cloudkida.views.page_not_found"
handler500 = "cloudkida.views.server_error"
