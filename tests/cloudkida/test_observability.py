"""Structured logs with the tenant on every line, EMF metrics with a tenant dimension, X-Ray on demand."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from cloudkida import observability
from cloudkida.tenancy import tenant_context
from tests.zappa_support import ROOT


def test_every_log_line_carries_the_tenant_of_its_context(caplog):
    logger = logging.getLogger("cloudkida.test")
    fields = observability.TenantFields()
    with caplog.at_level(logging.INFO, logger="cloudkida.test"):
        with tenant_context("01m8snar8h64x2rnetdm11h6e6"):
            logger.info("inside")
        logger.info("outside")
    inside, outside = caplog.records
    assert fields.filter(inside) and inside.tenant_id == "01m8snar8h64x2rnetdm11h6e6"
    assert fields.filter(outside) and not getattr(outside, "tenant_id", "")


@pytest.mark.usefixtures("platform")
def test_requests_emit_metrics_with_the_tenant_dimension(settings, client, capsys):
    settings.CLOUDKIDA_METRICS = True
    assert client.get("/healthz").status_code == 200
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    emitted = {m["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]: m for m in lines}
    assert emitted["Requests"]["tenant"] == "-" and emitted["Requests"]["Requests"] == [1.0]
    assert emitted["Latency"]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "tenant"]]
    assert "Errors" not in emitted


def test_no_metrics_unless_asked(settings, client, capsys):
    settings.CLOUDKIDA_METRICS = False
    client.get("/healthz")
    assert '"_aws"' not in capsys.readouterr().out


def test_tracing_aws_calls_patches_botocore_only_when_asked():
    code = (
        "import django, sys; django.setup();"
        "import aws_xray_sdk.core.patcher as p; print(sorted(p._PATCHED_MODULES));"
        "print('aws_xray_sdk' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDKIDA_")}
    env.update(DJANGO_SETTINGS_MODULE="cloudkida.settings", CLOUDKIDA_ENV="test")

    def run(trace: str) -> list[str]:
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**env, "CLOUDKIDA_TRACE_AWS_CALLS": trace},
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.split("\n")

    assert run("true")[0] == "['botocore']"
    assert run("false")[0] == "[]"
