"""The deployed package: its size, its cold start against a bare Django + DRF project, and AWS requests per
onboarding by tier.

Cold start is measured side by side in one run, in fresh `python -I -S` interpreters that see only the
unpacked production package (so all import the very same Django, DRF and Zappa), two ways:

- handler: CloudKida's Zappa handler imported and serving its first API Gateway event, against the same
  Zappa handler serving a one-view Django + DRF project (its own ``zappa_settings``) — what a Lambda cold
  start costs, with Zappa's own share (werkzeug, asyncio, boto3) in both;
- wsgi: CloudKida's WSGI application set up and serving its first request, against the bare project's.

The first request touches no AWS (a redirect on the apex host), so the figures are import and set-up time,
not network. Each is run ``RUNS`` times, interleaved; medians are compared. Goal: CloudKida ≤ 1.5 × the
bare project, both ways.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from django.test.utils import override_settings
from moto import mock_aws

from benchmarks.onboarding import TIERS, _fresh_platform, _register
from scripts import package

RUNS = 7
GOAL = 1.5

CLOUDKIDA = """
import os, sys, time
started = time.perf_counter()
sys.path.insert(0, sys.argv[1]); os.chdir(sys.argv[1])
import handler
event = {"path": "/api/docs", "httpMethod": "GET", "headers": {"Host": "cloudkida.example"},
         "requestContext": {"stage": "production"}, "body": None}
response = handler.lambda_handler(event, None)
assert response["statusCode"] == 302, response
print(time.perf_counter() - started)
"""

BARE_HANDLER = """
import os, sys, time
started = time.perf_counter()
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]); os.chdir(sys.argv[1])
import handler
event = {"path": "/api/", "httpMethod": "GET", "headers": {"Host": "x"},
         "requestContext": {"stage": "production"}, "body": None}
response = handler.lambda_handler(event, None)
assert response["statusCode"] == 200, response
print(time.perf_counter() - started)
"""

CLOUDKIDA_WSGI = """
import os, sys, time
started = time.perf_counter()
sys.path.insert(0, sys.argv[1]); os.chdir(sys.argv[1])
import zappa_settings
os.environ.update(zappa_settings.ENVIRONMENT_VARIABLES)
os.environ["DJANGO_SETTINGS_MODULE"] = zappa_settings.DJANGO_SETTINGS
started = time.perf_counter()  # the settings module above is Zappa's, not the application's
from django.core.wsgi import get_wsgi_application
from io import BytesIO
application = get_wsgi_application()
environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/docs", "SERVER_NAME": "x", "SERVER_PORT": "443",
           "wsgi.url_scheme": "https", "wsgi.input": BytesIO(b""), "HTTP_HOST": "cloudkida.example", "SCRIPT_NAME": ""}
status = []
body = b"".join(application(environ, lambda s, h: status.append(s)))
assert status[0].startswith("302"), (status, body[:300])
print(time.perf_counter() - started)
"""

BARE = """
import os, sys, time
started = time.perf_counter()
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
os.environ["DJANGO_SETTINGS_MODULE"] = "bare_settings"
from django.core.wsgi import get_wsgi_application
from io import BytesIO
application = get_wsgi_application()
environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/api/", "SERVER_NAME": "x", "SERVER_PORT": "443",
           "wsgi.url_scheme": "https", "wsgi.input": BytesIO(b""), "HTTP_HOST": "x", "SCRIPT_NAME": ""}
status = []
body = b"".join(application(environ, lambda s, h: status.append(s)))
assert status[0].startswith("200"), (status, body)
print(time.perf_counter() - started)
"""

BARE_SETTINGS = """
SECRET_KEY = "bench-" + "x" * 50
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "bare_urls"
DATABASES = {}
REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [], "DEFAULT_PERMISSION_CLASSES": [],
                  "UNAUTHENTICATED_USER": None, "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}
"""

BARE_URLS = """
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

class Ping(APIView):
    def get(self, request):
        return Response({"ok": True})

urlpatterns = [path("api/", Ping.as_view())]
"""


def _time(code: str, *args: str, env: dict[str, str]) -> float:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-I", "-S", "-c", code, *args], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return float(result.stdout.strip().splitlines()[-1])


def cold_start(unpacked: Path) -> dict:
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": "bench-" + "k9Z!" * 12, "AWS_ACCESS_KEY_ID": "bench"}
    env.update(AWS_SECRET_ACCESS_KEY="bench", AWS_ENDPOINT_URL="http://127.0.0.1:9")
    with tempfile.TemporaryDirectory() as bare:
        (Path(bare) / "bare_settings.py").write_text(BARE_SETTINGS)
        (Path(bare) / "bare_urls.py").write_text(BARE_URLS)
        ours_settings = (unpacked / "zappa_settings.py").read_text()
        (Path(bare) / "zappa_settings.py").write_text(
            re.sub(r"(?m)^DJANGO_SETTINGS=.*$", "DJANGO_SETTINGS='bare_settings'", ours_settings)
        )
        runs: dict[str, list[float]] = {"handler": [], "bare_handler": [], "wsgi": [], "bare_wsgi": []}
        for _ in range(RUNS):
            runs["handler"].append(_time(CLOUDKIDA, str(unpacked), env=env))
            runs["bare_handler"].append(_time(BARE_HANDLER, str(unpacked), bare, env=env))
            runs["wsgi"].append(_time(CLOUDKIDA_WSGI, str(unpacked), env=env))
            runs["bare_wsgi"].append(_time(BARE, str(unpacked), bare, env=env))
    median = {name: statistics.median(values) for name, values in runs.items()}
    return {
        "cloudkida_handler_seconds": round(median["handler"], 3),
        "bare_handler_seconds": round(median["bare_handler"], 3),
        "handler_ratio": round(median["handler"] / median["bare_handler"], 2),
        "cloudkida_wsgi_seconds": round(median["wsgi"], 3),
        "bare_wsgi_seconds": round(median["bare_wsgi"], 3),
        "import_ratio_vs_bare_django": round(median["wsgi"] / median["bare_wsgi"], 2),
        "runs": RUNS,
    }


def calls_per_onboarding() -> dict:
    by_tier = {}
    with override_settings(
        EMAIL_BACKEND="django_ses.SESBackend", CLOUDKIDA_SIGNUP_RATE_PER_HOUR=10_000, CLOUDKIDA_WORKFLOW_RUNNER="inline"
    ):
        with mock_aws():
            _fresh_platform()
            _register("warmup", "basic")
            for tier in TIERS:
                calls = _register(f"deploy-{tier}", tier)
                by_tier[tier] = {
                    "total": sum(calls.values()),
                    "by_service": dict(Counter(s for s, _ in calls.elements())),
                }
    return by_tier


def run() -> dict:
    with tempfile.TemporaryDirectory() as work:
        built = package.build("production", Path(work) / "production.zip")
        size = package.sizes(built)
        unpacked = package.unpack(built, Path(work) / "unpacked")
        start = cold_start(unpacked)
    onboarding = calls_per_onboarding()
    ok = start["handler_ratio"] <= GOAL and start["import_ratio_vs_bare_django"] <= GOAL
    rows = [
        "Lambda package (zappa package production, clean runtime venv)",
        f"  zipped {size['zip_bytes'] / 2**20:.1f} MiB, unpacked {size['unpacked_bytes'] / 2**20:.1f} MiB",
        f"Cold start, median of {RUNS} fresh `python -I -S` runs each (import + first request, no AWS)",
        f"  Zappa handler: CloudKida {start['cloudkida_handler_seconds']:.3f} s   "
        f"bare Django+DRF {start['bare_handler_seconds']:.3f} s   ratio {start['handler_ratio']:.2f} (goal <= {GOAL})",
        f"  WSGI app:      CloudKida {start['cloudkida_wsgi_seconds']:.3f} s   "
        f"bare Django+DRF {start['bare_wsgi_seconds']:.3f} s   "
        f"ratio {start['import_ratio_vs_bare_django']:.2f} (goal <= {GOAL})",
        "AWS requests per onboarding (moto in-process)",
        *(f"  {tier:<10} {data['total']:>4}  {data['by_service']}" for tier, data in onboarding.items()),
    ]
    figures = f"{start['handler_ratio']:.2f}x (handler), {start['import_ratio_vs_bare_django']:.2f}x (WSGI app)"
    verdict = (
        f"Cold start is {figures} a bare Django+DRF project: within the {GOAL}x goal."
        if ok
        else f"Cold start is {figures} a bare Django+DRF project: above the {GOAL}x goal (issue 12)."
    )
    return {
        "name": "deploy",
        "results": {"package": size, "cold_start": start, "onboarding_requests": onboarding},
        "ok": ok,
        "verdict": verdict,
        "table": "\n".join(rows),
        "goal_ratio": GOAL,
        "note": json.dumps({"measured_with": sys.version.split()[0]}),
    }
