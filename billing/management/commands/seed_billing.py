"""Seed the billing demo (make run): credit for the demo learner of the shared tenant. Idempotent."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from billing.demo import seed_billing


class Command(BaseCommand):
    help = "Give the shared tenant's demo learner some credit unless it has it (local and test only)."

    def handle(self, *args, **options):
        if settings.IS_PRODUCTION:
            raise CommandError("seed_billing is for local and test environments only.")
        for line in seed_billing(settings.CLOUDKIDA_DEFAULT_TENANT):
            self.stdout.write(line)
