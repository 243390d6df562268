from django.urls import path

from accounts import apis, oidc, pages, views
from accounts.integrations import urls as integrations

api_urlpatterns = [
    path("learner-registrations", apis.LearnerRegistrationCreateApi.as_view(), name="learner-registration-create"),
    path("me", apis.MeApi.as_view(), name="me"),
    path("tenant", apis.MyTenantApi.as_view(), name="my-tenant"),
    path("users", apis.UserListApi.as_view(), name="user-list"),
    path("users/export", apis.UserExportApi.as_view(), name="user-export"),
    *integrations.api_urlpatterns,  # before users/<user_id>: their paths are longer, never shadowed
    *integrations.scim_urlpatterns,
    path("users/<str:user_id>", apis.UserDetailApi.as_view(), name="user-detail"),
    path(
        "users/<str:user_id>/resend-invitation",
        apis.UserResendInvitationApi.as_view(),
        name="user-resend-invitation",
    ),
    path("user-imports", apis.UserImportListApi.as_view(), name="user-import-list"),
    path("user-imports/template", apis.UserImportTemplateApi.as_view(), name="user-import-template"),
    path("user-imports/<str:import_id>", apis.UserImportDetailApi.as_view(), name="user-import-detail"),
    path("user-imports/<str:import_id>/resume", apis.UserImportResumeApi.as_view(), name="user-import-resume"),
    path("groups", apis.GroupListApi.as_view(), name="group-list"),
    path("groups/<str:group_id>", apis.GroupDetailApi.as_view(), name="group-detail"),
    path("groups/<str:group_id>/members", apis.GroupMemberListApi.as_view(), name="group-member-list"),
    path(
        "groups/<str:group_id>/members/<str:user_id>", apis.GroupMemberDetailApi.as_view(), name="group-member-detail"
    ),
    path("groups/<str:group_id>/policy", apis.GroupPolicyApi.as_view(), name="group-policy"),
    path("policies/tenant", apis.TenantPolicyApi.as_view(), name="tenant-policy"),
    path("api-keys", apis.ApiKeyListApi.as_view(), name="api-key-list"),
    path("api-keys/<str:key_id>", apis.ApiKeyDetailApi.as_view(), name="api-key-detail"),
]

page_urlpatterns = [
    path("", views.home, name="home"),
    path("theme.css", views.theme, name="theme"),
    path("join/", views.learner_signup, name="learner-signup"),
    path("login/", oidc.LoginView.as_view(), name="login"),
    path("oidc/callback/", oidc.CallbackView.as_view(), name="oidc-callback"),
    path("logout/", oidc.LogoutView.as_view(), name="logout"),
    path("api-keys/", pages.api_key_list, name="portal-api-keys"),
    path("api-keys/<str:key_id>/revoke", pages.api_key_revoke, name="portal-api-key-revoke"),
    *integrations.page_urlpatterns,
]
