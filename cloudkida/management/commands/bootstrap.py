from django.core.management.base import BaseCommand

from cloudkida.bootstrap import bootstrap


class Command(BaseCommand):
    help = "Create (idempotently) the tables, user pools, queues, bucket and SES identity CloudKida needs."

    def handle(self, *args, **options):
        outcomes = bootstrap()
        for outcome in outcomes:
            self.stdout.write(str(outcome))
        created = sum(o.created for o in outcomes)
        if created:
            self.stdout.write(self.style.SUCCESS(f"Bootstrap created {created} of {len(outcomes)} resources."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Nothing to do: all {len(outcomes)} resources already exist."))
