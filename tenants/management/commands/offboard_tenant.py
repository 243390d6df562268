from django.core.management.base import BaseCommand, CommandError

from cloudkida.errors import ApplicationError
from tenants.selectors import tenant_get_by_slug
from tenants.services import tenant_offboard


class Command(BaseCommand):
    help = "Export a tenant's data to the assets bucket, then remove everything of it. Irreversible."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the tenant's subdomain")
        parser.add_argument("--confirm", required=True, help="type the slug again to confirm")

    def handle(self, *args, slug, confirm, **options):
        try:
            tenant = tenant_get_by_slug(slug=slug)
            key = tenant_offboard(tenant_id=tenant.tenant_id, confirm_slug=confirm, actor="operator:cli")
        except ApplicationError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        self.stdout.write(self.style.SUCCESS(f"{slug} offboarded; export at s3://…/{key}"))
