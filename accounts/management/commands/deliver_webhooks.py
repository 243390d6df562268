"""Relay recorded webhook events and deliver the due attempts: what the ``webhooks-deliver`` schedule runs
every minute on a deployed stage. Locally run it once, or with ``--watch`` beside ``make run``."""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand

from accounts.integrations import webhooks


class Command(BaseCommand):
    help = "Relay recorded webhook events and deliver the due attempts (once, or every few seconds with --watch)."

    def add_arguments(self, parser):
        parser.add_argument("--watch", action="store_true", help="keep going, every --every seconds")
        parser.add_argument("--every", type=float, default=5.0)

    def handle(self, *args, watch: bool, every: float, **options):
        while True:
            report = {**webhooks.relay(), **webhooks.drain(seconds=30)}
            self.stdout.write(json.dumps(report))
            if not watch:
                return
            time.sleep(every)
