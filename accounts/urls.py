from django.urls import path

from accounts import apis, organisation_pages, pages, views
from accounts.integrations import urls as integrations
from cloudkida.lazy import lazy_view

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
    path("login/", lazy_view("accounts.oidc.LoginView"), name="login"),
    path("oidc/callback/", lazy_view("accounts.oidc.CallbackView"), name="oidc-callback"),
    path("logout/", lazy_view("accounts.oidc.LogoutView"), name="logout"),
    path("people/", pages.people, name="portal-people"),
    path("people/invite/", pages.person_invite, name="portal-person-invite"),
    path("people/import/", pages.import_start, name="portal-import-start"),
    path("people/import/<str:import_id>/", pages.import_detail, name="portal-import"),
    path("people/import/<str:import_id>/progress", pages.import_progress, name="portal-import-progress"),
    path("people/import/<str:import_id>/resume", pages.import_resume, name="portal-import-resume"),
    path("people/<str:user_id>/", pages.person, name="portal-person"),
    path("people/<str:user_id>/role", pages.person_role, name="portal-person-role"),
    path("people/<str:user_id>/status", pages.person_status, name="portal-person-status"),
    path("people/<str:user_id>/resend", pages.person_resend, name="portal-person-resend"),
    path("people/<str:user_id>/delete", pages.person_delete, name="portal-person-delete"),
    path("people/<str:user_id>/groups", pages.person_groups, name="portal-person-groups"),
    path("groups/", pages.groups, name="portal-groups"),
    path("groups/<str:group_id>/", pages.group, name="portal-group"),
    path("groups/<str:group_id>/rename", pages.group_rename, name="portal-group-rename"),
    path("groups/<str:group_id>/delete", pages.group_delete, name="portal-group-delete"),
    path("groups/<str:group_id>/members", pages.group_members, name="portal-group-members"),
    path("groups/<str:group_id>/policy", pages.group_policy, name="portal-group-policy"),
    path("policies/", pages.tenant_policy, name="portal-policies"),
    path("audit/", organisation_pages.audit_log, name="portal-audit"),
    path("settings/", organisation_pages.settings_page, name="portal-settings"),
    path("settings/branding", organisation_pages.branding_update, name="portal-branding"),
    path("settings/<str:asset>/upload", organisation_pages.asset_upload, name="portal-asset-upload"),
    path("settings/<str:asset>/remove", organisation_pages.asset_remove, name="portal-asset-remove"),
    path("settings/domains", organisation_pages.domain_create, name="portal-domain-add"),
    path("settings/sso", organisation_pages.identity_provider_create, name="portal-sso-add"),
    path(
        "settings/sso/<str:provider_name>/remove",
        organisation_pages.identity_provider_remove,
        name="portal-sso-remove",
    ),
    path("settings/domains/<str:domain>/<str:action>", organisation_pages.domain_action, name="portal-domain-action"),
    path("api-keys/", pages.api_key_list, name="portal-api-keys"),
    path("api-keys/<str:key_id>/revoke", pages.api_key_revoke, name="portal-api-key-revoke"),
    *integrations.page_urlpatterns,
]
