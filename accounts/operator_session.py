"""The signed-in operator on every request: ``request.user`` from the operator in the session.

Kept apart from the operator sign-in views (accounts.operators) so the middleware that runs on every
request does not import the OIDC client and PyJWT, which only a sign-in needs.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject

from accounts.tokens import _operator_role
from cloudkida import clock
from cloudkida.errors import ApplicationError
from cloudkida.identity.principal import Role

SESSION_KEY = "operator"


def operator_user(data: dict):
    """An unsaved User for the signed-in operator, its flags from the operator's current account."""
    try:
        role = _operator_role({"username": data["username"], "sub": data["sub"]})
    except ApplicationError:
        return AnonymousUser()
    if not role.is_platform:
        return AnonymousUser()
    user = get_user_model()(
        username=data["email"] or data["username"],
        email=data["email"],
        is_active=True,
        is_staff=True,
        is_superuser=role is Role.SYSTEM_ADMIN,
    )
    user.backend = "accounts.operators"
    return user


class OperatorAuthenticationMiddleware(AuthenticationMiddleware):
    """``request.user`` from the operator in the session; else (local and tests only) Django's own."""

    def process_request(self, request):
        data = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if data and int(data.get("expires_at", 0)) > int(clock.now().timestamp()):
            request.user = SimpleLazyObject(lambda: operator_user(data))
            request.auser = sync_to_async(lambda: request.user)
            return
        if settings.CLOUDKIDA_ADMIN_PASSWORD_LOGIN:
            super().process_request(request)
            return
        request.user = AnonymousUser()
        request.auser = sync_to_async(AnonymousUser)
