"""Run the labs job `retry_grades` once (what its schedule in the generated stack runs in production)."""

import json

from django.core.management.base import BaseCommand

from labs import jobs


class Command(BaseCommand):
    help = "Run labs.jobs.retry_grades once and print what it did."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(jobs.retry_grades(), default=str))
