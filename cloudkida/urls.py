"""The composition root: the one module that imports every app's URLs."""

from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts import cognito_emulator
from accounts.operators import OperatorCallbackView, OperatorLoginView
from accounts.urls import api_urlpatterns as account_apis
from accounts.urls import page_urlpatterns as account_pages
from billing.urls import api_urlpatterns as billing_apis
from billing.urls import page_urlpatterns as billing_pages
from cloudkida.apis import ApiRootApi
from cloudkida.health import healthz
from labs.urls import api_urlpatterns as lab_apis
from labs.urls import page_urlpatterns as lab_pages
from tenants.urls import api_urlpatterns as tenant_apis

api_v1 = [
    path("", ApiRootApi.as_view(), name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    *tenant_apis,
    *account_apis,
    *lab_apis,
    *billing_apis,
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=static("cloudkida/favicon.svg")), name="favicon"),
    path("api/docs", RedirectView.as_view(pattern_name="api-docs"), name="api-docs-short"),
    path("admin/oidc/login/", OperatorLoginView.as_view(), name="admin-oidc-login"),
    path("admin/oidc/callback/", OperatorCallbackView.as_view(), name="admin-oidc-callback"),
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
