from django.core.management.base import BaseCommand, CommandError

from cloudkida.errors import ApplicationError
from tenants.services import onboarding_run
from tenants.services.records import tenant_create


class Command(BaseCommand):
    help = "Create a tenant and run its onboarding here, to ACTIVE or FAILED (operators)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--tier", required=True, choices=["basic", "standard", "premium", "platinum"])
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-name", required=True)
        parser.add_argument("--country", default="US")

    def handle(self, *args, **o):
        try:
            tenant = tenant_create(
                slug=o["slug"],
                name=o["name"],
                tier=o["tier"],
                admin_email=o["admin_email"],
                admin_name=o["admin_name"],
                country=o["country"].upper(),
            )
        except ApplicationError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        result = onboarding_run(tenant_id=tenant.tenant_id)
        if not result.ok:
            raise CommandError(
                f"onboarding failed at {result.failed_step}: {result.error} "
                "(fix the cause, then retry from the admin site or the API)"
            )
        self.stdout.write(self.style.SUCCESS(f"{tenant.slug} is ACTIVE (id {tenant.tenant_id})"))
