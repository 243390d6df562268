"""Run the labs job `replenish_pool` once (what its schedule in the generated stack runs in production)."""

import json

from django.core.management.base import BaseCommand

from labs import jobs


class Command(BaseCommand):
    help = "Run labs.jobs.replenish_pool once and print what it did."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(jobs.replenish_pool(), default=str))
