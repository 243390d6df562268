"""Seed the labs demo (make run): a pool shard with a few accounts and two public labs. Idempotent."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from labs.demo import seed_labs


class Command(BaseCommand):
    help = "Create the demo pool and labs unless they exist (local and test environments only)."

    def handle(self, *args, **options):
        if settings.IS_PRODUCTION:
            raise CommandError("seed_labs is for local and test environments only.")
        for line in seed_labs():
            self.stdout.write(line)
