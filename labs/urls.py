from django.urls import path

from cloudkida.lazy import lazy_view
from labs import apis, views
from labs.lti import apis as lti_apis

api_urlpatterns = [
    path("labs", apis.LabListApi.as_view(), name="lab-list"),
    path("labs/<str:lab_id>", apis.LabDetailApi.as_view(), name="lab-detail"),
    path("labs/<str:lab_id>/publish", apis.LabPublishApi.as_view(), name="lab-publish"),
    path("labs/<str:lab_id>/retire", apis.LabRetireApi.as_view(), name="lab-retire"),
    path("labs/<str:lab_id>/enable", apis.LabEnableApi.as_view(), name="lab-enable"),
    path("labs/<str:lab_id>/disable", apis.LabDisableApi.as_view(), name="lab-disable"),
    path("labs/<str:lab_id>/assignments", apis.LabAssignmentListApi.as_view(), name="lab-assignment-list"),
    path(
        "labs/<str:lab_id>/assignments/<str:assignee_type>/<str:assignee_id>",
        apis.LabAssignmentDetailApi.as_view(),
        name="lab-assignment-detail",
    ),
    path("labs/<str:lab_id>/progress", apis.LabProgressApi.as_view(), name="lab-progress"),
    path("lab-sessions", apis.LabSessionListApi.as_view(), name="lab-session-list"),
    path("lab-sessions/<str:session_id>", apis.LabSessionDetailApi.as_view(), name="lab-session-detail"),
    path("lab-sessions/<str:session_id>/extend", apis.LabSessionExtendApi.as_view(), name="lab-session-extend"),
    path("lab-sessions/<str:session_id>/end", apis.LabSessionEndApi.as_view(), name="lab-session-end"),
    path("lab-sessions/<str:session_id>/access", apis.LabSessionAccessApi.as_view(), name="lab-session-access"),
    path(
        "lab-sessions/<str:session_id>/tasks/<str:task_id>/check",
        apis.LabSessionCheckApi.as_view(),
        name="lab-session-check",
    ),
    path("lab-accounts", apis.LabAccountListApi.as_view(), name="lab-account-list"),
    path("lab-accounts/<str:account_id>", apis.LabAccountDetailApi.as_view(), name="lab-account-detail"),
    path("lab-accounts/<str:account_id>/retry-cleanup", apis.LabAccountRetryApi.as_view(), name="lab-account-retry"),
    path(
        "lab-accounts/<str:account_id>/quarantine",
        apis.LabAccountQuarantineApi.as_view(),
        name="lab-account-quarantine",
    ),
    path("lab-accounts/<str:account_id>/eject", apis.LabAccountEjectApi.as_view(), name="lab-account-eject"),
    path("lab-pool", apis.LabPoolApi.as_view(), name="lab-pool"),
    path("lti-platforms", lti_apis.LtiPlatformListApi.as_view(), name="lti-platform-list"),
    path("lti-platforms/<str:platform_id>", lti_apis.LtiPlatformDetailApi.as_view(), name="lti-platform-detail"),
]

page_urlpatterns = [
    path("labs/", views.my_labs, name="labs-mine"),
    path("labs/live/", views.live_sessions, name="labs-live"),
    path("labs/<str:lab_id>/", views.lab_page, name="labs-lab"),
    path("labs/<str:lab_id>/start/", views.lab_start, name="labs-start"),
    path("labs/sessions/<str:session_id>/<str:action>/", views.session_action, name="labs-session-action"),
    # LTI's views load pylti1p3 (and jwcrypto) at their first request, not at every cold start.
    path("lti/login", lazy_view("labs.lti.views.lti_login", csrf_exempt=True), name="lti-login"),
    path("lti/launch", lazy_view("labs.lti.views.lti_launch", csrf_exempt=True), name="lti-launch"),
    path("lti/jwks", lazy_view("labs.lti.views.lti_jwks"), name="lti-jwks"),
    path(
        "lti/deep-link/<str:launch_id>",
        lazy_view("labs.lti.views.lti_deep_link", csrf_exempt=True),
        name="lti-deep-link",
    ),
]
