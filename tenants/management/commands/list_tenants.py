from django.core.management.base import BaseCommand

from tenants.domain import TenantStatus, Tier
from tenants.selectors import tenant_list


class Command(BaseCommand):
    help = "List tenants, oldest first (Query on an index, never a Scan)."

    def add_arguments(self, parser):
        parser.add_argument("--status", choices=[s.value for s in TenantStatus])
        parser.add_argument("--tier", choices=[t.value for t in Tier])

    def handle(self, *args, status=None, tier=None, **options):
        self.stdout.write(f"{'id':<26} {'slug':<28} {'tier':<9} {'status':<13} {'created':<20} name")
        cursor = None
        while True:
            page = tenant_list(
                status=TenantStatus(status) if status else None,
                tier=Tier(tier) if tier else None,
                limit=100,
                cursor=cursor,
            )
            for t in page.items:
                created = t.created_at.strftime("%Y-%m-%d %H:%M")
                self.stdout.write(
                    f"{t.tenant_id:<26} {t.slug:<28} {t.tier.value:<9} {t.status.value:<13} {created:<20} {t.name}"
                )
            cursor = page.cursor
            if not cursor:
                return
