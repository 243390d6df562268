"""Zappa's own Lambda handler, in this process, with the settings module `zappa package` would generate."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]


def generate_zappa_settings(stage: str, out_dir: Path) -> Path:
    """Render the zappa_settings.py `zappa package` puts in the zip, with Zappa's own code (no AWS)."""
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_credentials = False
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        cli.load_settings(settings_file=str(ROOT / "zappa_settings.json"))
        source = cli.get_zappa_settings_string()
    finally:
        os.chdir(cwd)
    path = out_dir / "zappa_settings.py"
    path.write_text(source + "\n")
    return path


def _reset_handler() -> None:
    import zappa.handler

    zappa.handler.LambdaHandler._LambdaHandler__instance = None
    zappa.handler.global_handler = None
    sys.modules.pop("zappa_settings", None)


def lambda_context(function_name: str = "cloudkida-dev"):
    return SimpleNamespace(
        function_name=function_name,
        aws_request_id="req-1",
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}",
        memory_limit_in_mb=1024,
        get_remaining_time_in_millis=lambda: 30000,
    )


@pytest.fixture
def lambda_handler(tmp_path, monkeypatch):
    """The function's entry point (``cloudkida.lambda_entry``, which hands all but Cognito's triggers to Zappa's
    handler) for the dev stage; the environment Zappa rewrites is restored afterwards."""
    import zappa.handler

    from cloudkida.lambda_entry import lambda_handler as entry

    generate_zappa_settings("dev", tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    saved_env = dict(os.environ)
    root = logging.getLogger()
    levels = (root.level, zappa.handler.logger.level)
    _reset_handler()
    yield entry
    _reset_handler()
    os.environ.clear()
    os.environ.update(saved_env)
    root.setLevel(levels[0])
    zappa.handler.logger.setLevel(levels[1])
    sys.path[:] = [p for p in sys.path if p != "/var/task"]
