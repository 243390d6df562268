"""Write (or --check) the CloudFormation templates generated from the code's specs; --meter-api after a deploy."""

from django.core.management.base import BaseCommand, CommandError

from cloudkida.infrastructure import ROOT, meter_api, render_all_stacks


class Command(BaseCommand):
    help = "Regenerate deploy/<prefix>.template.json for every resource prefix in zappa_settings.json."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="fail if a committed template is stale")
        parser.add_argument("--meter-api", metavar="REST_API_ID", help="after `zappa deploy`: key source and keys")
        parser.add_argument("--stage", help="the stage of --meter-api (the integrator stage)")

    def handle(self, *args, check=False, meter_api_id=None, stage=None, **options):
        if options.get("meter_api"):
            if not options.get("stage") and not stage:
                raise CommandError("--meter-api needs --stage")
            for line in meter_api(options["meter_api"], options.get("stage") or stage):
                self.stdout.write(line)
            return
        stale = []
        for path, text in render_all_stacks().items():
            if path.exists() and path.read_text() == text:
                self.stdout.write(f"up to date  {path.relative_to(ROOT)}")
                continue
            if check:
                stale.append(str(path.relative_to(ROOT)))
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            self.stdout.write(f"wrote       {path.relative_to(ROOT)}")
        if stale:
            raise CommandError(f"stale: {', '.join(stale)}; run `manage.py infrastructure`")
