"""`make run` end to end: local AWS, bootstrap, seed, serve; Ctrl-C stops it all; data survives a restart."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _default_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


class RunLocal:
    """scripts/run-local.sh (what `make run` calls) in its own process group, its output in a queue."""

    def __init__(self, state_dir: Path, port: int):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDKIDA_", "DJANGO_", "AWS_"))}
        env.update(CLOUDKIDA_LOCAL_STATE_DIR=str(state_dir), CLOUDKIDA_PORT=str(port))
        self.process = subprocess.Popen(  # noqa: S603
            [str(ROOT / "scripts/run-local.sh")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
            # A terminal starts `make run` with default signal handling; don't inherit whatever this
            # test process has set (an ignored SIGINT would be untrappable in the script).
            preexec_fn=_default_signals,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str, timeout: float = 180) -> None:
        while True:
            line = self.lines.get(timeout=timeout)
            if line is None:
                raise AssertionError("run-local exited early:\n" + "".join(self.output))
            self.output.append(line)
            if text in line:
                return

    def interrupt(self) -> str:
        """Ctrl-C the whole process group, as a terminal does; return what it printed while stopping."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stuck = subprocess.run(  # noqa: S603
                ["ps", "-o", "pid,stat,wchan:20,cmd", "-g", str(self.process.pid)],  # noqa: S607
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            raise AssertionError(f"run-local did not stop on Ctrl-C; still running:\n{stuck}") from None
        rest = []
        while (line := self.lines.get(timeout=10)) is not None:
            rest.append(line)
        return "".join(rest)


def _wait_until_serving(url: str, run: RunLocal) -> None:
    # gunicorn says it is listening before it accepts; the queue gives us that line.
    run.wait_for("Listening at")
    assert requests.get(url, timeout=10).status_code in {200, 503}


@pytest.fixture
def runs():
    """Every run-local started by the test; whatever still runs at the end is killed, pass or fail."""
    started: list[RunLocal] = []
    yield started
    for run in started:
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)
            run.process.wait(timeout=30)


def _sign_in_as_the_seeded_admin(run: RunLocal, base: str, port: int) -> None:
    """The invitation `make run` printed for acme's admin signs her in through the hosted-UI emulation,
    which makes her choose a new password first."""
    printed = "".join(run.output)
    password = re.search(
        r"Sign-in:\s+admin@acme\.example\s+Temporary password:\s+(\S+)", printed.replace("Your sign-in:", "Sign-in:")
    )
    assert password, "the admin's invitation was not printed"
    portal, session = requests.Session(), requests.Session()  # the tenant host's cookies, the hosted UI's
    tenant = {"Host": f"acme.localhost:{port}"}
    start = portal.get(f"{base}/login/", headers=tenant, allow_redirects=False, timeout=10)
    authorize = urlsplit(start.headers["Location"])
    assert start.status_code == 302 and authorize.path.startswith("/_cognito/") and "code_challenge=" in authorize.query
    fields = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    form = session.get(start.headers["Location"], timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    login = f"{authorize.scheme}://{authorize.netloc}" + authorize.path.replace("/oauth2/authorize", "/login")
    fields.update(csrfmiddlewaretoken=csrf, username="admin@acme.example", password=password.group(1))
    challenge = session.post(login, data=fields, headers={"Referer": login}, allow_redirects=False, timeout=10)
    assert "Choose your password" in challenge.text, re.findall(
        r"Reason given for failure:\s*</p>\s*<pre>([^<]*)", challenge.text
    )
    hidden = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', challenge.text))
    chosen = {**hidden, "new_password": "Chosen-Pass-2027", "confirm_password": "Chosen-Pass-2027"}
    done = session.post(
        login.replace("/login", "/new-password"),
        data=chosen,
        headers={"Referer": login},
        allow_redirects=False,
        timeout=10,
    )
    back = urlsplit(done.headers["Location"])
    assert done.status_code == 302 and back.path == "/oidc/callback/"
    callback = portal.get(f"{base}{back.path}?{back.query}", headers=tenant, allow_redirects=False, timeout=10)
    assert callback.status_code == 302, callback.text[:300]
    home = portal.get(f"{base}/", headers=tenant, timeout=10)
    assert "Administrator" in home.text and "Sign out" in home.text


def test_make_run_serves_health_and_admin_and_keeps_data_across_restarts(tmp_path, runs):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"

    first = RunLocal(tmp_path, port)
    runs.append(first)
    first.wait_for("CloudKida is running")
    _wait_until_serving(f"{base}/healthz", first)
    assert requests.get(f"{base}/healthz", timeout=10).json()["status"] == "ok"
    admin = requests.get(f"{base}/admin/login/", timeout=10)
    assert admin.status_code == 200 and "Log in | CloudKida operations" in admin.text
    assert any("created tenant         acme" in line for line in first.output)
    assert any("created identity prov. Acme SSO in acme" in line for line in first.output)
    _sign_in_as_the_seeded_admin(first, base, port)
    recording = tmp_path / "moto-recording.jsonl"
    recorded = len(recording.read_text().splitlines())
    for _ in range(20):  # reads leave no trace in the recording: start-up time follows the data, not the traffic
        assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
        requests.get(f"{base}/", headers={"Host": f"acme.localhost:{port}"}, timeout=10)
    assert len(recording.read_text().splitlines()) == recorded

    assert "Stopped CloudKida and local AWS." in first.interrupt()
    assert not (tmp_path / "localaws.json").exists(), "local AWS was not stopped"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/healthz", timeout=5)

    second = RunLocal(tmp_path, port)
    runs.append(second)
    second.wait_for("CloudKida is running")
    _wait_until_serving(f"{base}/healthz", second)
    assert any("restored" in line for line in second.output)
    assert any("found   tenant         acme" in line for line in second.output)
    seeded = [line for line in second.output if "identity prov." in line]
    assert seeded and re.match(r"(found|updated) +identity prov\. Acme SSO", seeded[0]), second.output[-40:]
    assert any("Nothing to do" in line for line in second.output)
    second.interrupt()
