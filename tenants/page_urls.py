from django.urls import path

from tenants import views

urlpatterns = [
    path("", views.home, name="home"),
    path("signup/", views.signup, name="signup"),
    path("signup/<str:tenant_id>/progress/", views.signup_progress, name="signup-progress"),
    path("join/", views.learner_signup, name="learner-signup"),
]
