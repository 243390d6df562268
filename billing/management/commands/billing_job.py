import json

from django.core.management.base import BaseCommand

from billing.jobs import JOBS


class Command(BaseCommand):
    help = "Run one of billing's scheduled jobs now: " + ", ".join(JOBS)

    def add_arguments(self, parser):
        parser.add_argument("job", choices=sorted(JOBS))

    def handle(self, *args, job, **options):
        self.stdout.write(json.dumps(JOBS[job](), default=str))
