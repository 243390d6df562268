"""Run the labs job `check_spend` once (what its schedule in the generated stack runs in production)."""

import json

from django.core.management.base import BaseCommand

from labs import jobs


class Command(BaseCommand):
    help = "Run labs.jobs.check_spend once and print what it did."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(jobs.check_spend(), default=str))
