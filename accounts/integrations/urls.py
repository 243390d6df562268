from django.urls import path

from . import apis, pages, scim_apis, sso_apis

api_urlpatterns = [
    path("webhook-endpoints", apis.WebhookEndpointListApi.as_view(), name="webhook-endpoint-list"),
    path(
        "webhook-endpoints/<str:endpoint_id>", apis.WebhookEndpointDetailApi.as_view(), name="webhook-endpoint-detail"
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/secret",
        apis.WebhookEndpointSecretApi.as_view(),
        name="webhook-endpoint-secret",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/rotate-secret",
        apis.WebhookEndpointRotateApi.as_view(),
        name="webhook-endpoint-rotate",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/deliveries",
        apis.WebhookDeliveryListApi.as_view(),
        name="webhook-delivery-list",
    ),
    path(
        "webhook-endpoints/<str:endpoint_id>/deliveries/<str:delivery_id>/redeliver",
        apis.WebhookDeliveryRedeliverApi.as_view(),
        name="webhook-delivery-redeliver",
    ),
    path("webhook-event-types", apis.WebhookEventTypeListApi.as_view(), name="webhook-event-type-list"),
    path("identity-providers", sso_apis.IdentityProviderListApi.as_view(), name="identity-provider-list"),
    path(
        "identity-providers/<str:provider_name>",
        sso_apis.IdentityProviderDetailApi.as_view(),
        name="identity-provider-detail",
    ),
    path("me/personal-data", apis.MyPersonalDataApi.as_view(), name="my-personal-data"),
    path("users/<str:user_id>/personal-data", apis.UserPersonalDataApi.as_view(), name="user-personal-data"),
    path("users/<str:user_id>/erase", apis.UserErasureApi.as_view(), name="user-erase"),
]

page_urlpatterns = [
    path("webhooks/", pages.webhook_list, name="portal-webhooks"),
    path("webhooks/<str:endpoint_id>/", pages.webhook_detail, name="portal-webhook-detail"),
    path(
        "webhooks/<str:endpoint_id>/deliveries/<str:delivery_id>/redeliver",
        pages.webhook_redeliver,
        name="portal-webhook-redeliver",
    ),
    path("people/<str:user_id>/personal-data/", pages.personal_data, name="portal-personal-data"),
]

scim_urlpatterns = [
    path("scim/v2/Users", scim_apis.ScimUsersApi.as_view(), name="scim-users"),
    path("scim/v2/Users/<str:user_id>", scim_apis.ScimUserApi.as_view(), name="scim-user"),
    path("scim/v2/Groups", scim_apis.ScimGroupsApi.as_view(), name="scim-groups"),
    path("scim/v2/Groups/<str:group_id>", scim_apis.ScimGroupApi.as_view(), name="scim-group"),
    path("scim/v2/ServiceProviderConfig", scim_apis.ScimServiceProviderConfigApi.as_view(), name="scim-config"),
]
