from django.urls import path

from accounts import oidc
from tenants import views

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("signup/<str:tenant_id>/progress/", views.signup_progress, name="signup-progress"),
    path("join/", views.learner_signup, name="learner-signup"),
    path("find/", views.find_organisation, name="find-organisation"),
    path("login/", oidc.LoginView.as_view(), name="login"),
    path("oidc/callback/", oidc.CallbackView.as_view(), name="oidc-callback"),
    path("logout/", oidc.LogoutView.as_view(), name="logout"),
]
