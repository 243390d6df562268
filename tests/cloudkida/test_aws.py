"""cloudkida.aws is the only place clients are built, and builds them configured."""

from __future__ import annotations

import re
from pathlib import Path

from cloudkida import aws

ROOT = Path(__file__).resolve().parents[2]


def test_clients_carry_region_endpoint_retries_and_timeouts(settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:4566"
    settings.AWS_REGION = "eu-west-1"
    aws.reset()
    client = aws.client("dynamodb")
    config = client.meta.config
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert client.meta.region_name == "eu-west-1"
    assert config.retries == {"mode": "adaptive", "total_max_attempts": settings.AWS_MAX_ATTEMPTS}
    assert (config.connect_timeout, config.read_timeout) == (settings.AWS_CONNECT_TIMEOUT, settings.AWS_READ_TIMEOUT)


def test_clients_are_cached_until_reset():
    first = aws.client("sqs")
    assert aws.client("sqs") is first
    aws.reset()
    assert aws.client("sqs") is not first


# cloudkida.aws itself, and the load test, which drives a running stack from outside (no Django settings).
OUTSIDE_CLIENTS = {Path("cloudkida/aws.py"), Path("benchmarks/load.py")}


def test_no_module_but_cloudkida_aws_builds_boto3_clients():
    offenders = []
    pattern = re.compile(r"boto3\.(client|resource|session\.Session|Session)\(")
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {".venv", "tests", ".local", ".zappa-build"} or relative in OUTSIDE_CLIENTS:
            continue
        if pattern.search(path.read_text()):
            offenders.append(str(relative))
    assert offenders == []
