from django.urls import path

from accounts import apis

api_urlpatterns = [
    path("me", apis.MeApi.as_view(), name="me"),
    path("tenant", apis.MyTenantApi.as_view(), name="my-tenant"),
    path("users", apis.UserListApi.as_view(), name="user-list"),
    path("users/<str:user_id>", apis.UserDetailApi.as_view(), name="user-detail"),
    path("api-keys", apis.ApiKeyListApi.as_view(), name="api-key-list"),
    path("api-keys/<str:key_id>", apis.ApiKeyDetailApi.as_view(), name="api-key-detail"),
]
