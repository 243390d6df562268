from django.urls import path

from tenants import asset_views, views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/<str:tenant_id>/progress/", views.signup_progress, name="signup-progress"),
    path("signup/<str:tenant_id>/progress/steps", views.signup_progress_steps, name="signup-progress-steps"),
    path("find/", views.find_organisation, name="find-organisation"),
    path("branding/<str:asset>", asset_views.branding_asset_view, name="branding-asset"),
]
