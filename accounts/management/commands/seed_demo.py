"""Seed the demo: the shared learners tenant, one isolated organisation, a system admin. Idempotent."""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import seed_demo_operator, seed_demo_sso, seed_demo_tenants


class Command(BaseCommand):
    help = "Create the demo tenants, their demo users and a system admin, unless they exist."

    def handle(self, *args, **options):
        if settings.IS_PRODUCTION:
            raise CommandError("seed_demo is for local and test environments only.")
        for line in seed_demo_tenants():
            self.stdout.write(line)
        self.stdout.write(seed_demo_operator())
        if settings.CLOUDKIDA_DEMO_OIDC_ISSUER:
            self.stdout.write(seed_demo_sso(settings.CLOUDKIDA_DEMO_OIDC_ISSUER))
        self._system_admin()

    def _system_admin(self):
        credentials_file = settings.LOCAL_STATE_DIR / "demo-credentials.json"
        User = get_user_model()
        if User.objects.filter(username="admin").exists():
            self.stdout.write("found   system admin   admin (password in .local/demo-credentials.json)")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", "admin@cloudkida.localhost", password)
        settings.LOCAL_STATE_DIR.mkdir(parents=True, exist_ok=True)
        credentials_file.write_text(json.dumps({"username": "admin", "password": password}))
        credentials_file.chmod(0o600)
        self.stdout.write("created system admin   admin (password in .local/demo-credentials.json)")
