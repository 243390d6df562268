from django.urls import path

from accounts import apis, oidc, pages, views

api_urlpatterns = [
    path("learner-registrations", apis.LearnerRegistrationCreateApi.as_view(), name="learner-registration-create"),
    path("me", apis.MeApi.as_view(), name="me"),
    path("tenant", apis.MyTenantApi.as_view(), name="my-tenant"),
    path("users", apis.UserListApi.as_view(), name="user-list"),
    path("users/<str:user_id>", apis.UserDetailApi.as_view(), name="user-detail"),
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
]
