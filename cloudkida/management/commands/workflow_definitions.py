"""Write (or --check) the Step Functions definitions generated from the in-code step lists."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cloudkida.workflows.definitions import DEFINITIONS_DIR, render_all


class Command(BaseCommand):
    help = "Regenerate cloudkida/workflows/definitions/*.asl.json from the workflow step lists."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="fail if a committed definition is stale")

    def handle(self, *args, check=False, **options):
        stale = []
        for name, text in render_all().items():
            path = Path(DEFINITIONS_DIR) / f"{name}.asl.json"
            if path.exists() and path.read_text() == text:
                self.stdout.write(f"up to date  {path.name}")
                continue
            if check:
                stale.append(path.name)
                continue
            path.write_text(text)
            self.stdout.write(f"wrote       {path.name}")
        if stale:
            raise CommandError(f"stale: {', '.join(stale)}; run `manage.py workflow_definitions`")
