"""Local and test runs only: an operations-pool ID token for a system admin, for the operator API."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.invitations import temporary_password
from cloudkida import aws
from tenants import provisioning


class Command(BaseCommand):
    help = "Print an operations-pool ID token (SystemAdmin or CustomerSupport) for the operator API (local only)."

    def add_arguments(self, parser):
        parser.add_argument("--email", default="ops@cloudkida.localhost")
        parser.add_argument("--role", default="SystemAdmin", choices=["SystemAdmin", "CustomerSupport"])

    def handle(self, *args, email, role, **options):
        if settings.IS_PRODUCTION:
            raise CommandError("operator_token is for local runs: in production sign in through the operations pool.")
        platform = provisioning.platform()
        cognito = aws.client("cognito-idp")
        pool = platform["operations_user_pool_id"]
        password = temporary_password(20)
        try:
            cognito.admin_get_user(UserPoolId=pool, Username=email)
        except cognito.exceptions.UserNotFoundException:
            cognito.admin_create_user(
                UserPoolId=pool,
                Username=email,
                MessageAction="SUPPRESS",
                TemporaryPassword=password,
                UserAttributes=[{"Name": "email", "Value": email}, {"Name": "custom:userRole", "Value": role}],
            )
        cognito.admin_update_user_attributes(
            UserPoolId=pool, Username=email, UserAttributes=[{"Name": "custom:userRole", "Value": role}]
        )
        cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
        tokens = cognito.admin_initiate_auth(
            UserPoolId=pool,
            ClientId=platform["operations_client_id"],
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )["AuthenticationResult"]
        self.stdout.write(tokens["IdToken"])
