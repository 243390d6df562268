"""`python -m benchmarks load`: realistic users of several tenants against the local stack, stepping up.

It starts `make run`'s stack itself (scripts/run-local.sh: moto server, gunicorn) in a temporary state
directory on a free port, signs up organisations, invites their people, and then runs simulated users in
steps of 50 → 100 → 200 → 400: each signs in through the tenant's (emulated) hosted UI, then loops with a
think time of 2–8 s over what people do — the portal's dashboard, `/api/v1/me`, the user list, the
organisation, now and then inviting someone — while some visitors sign organisations up. Bounded in time
(``CLOUDKIDA_LOAD_STEP_SECONDS`` per step) and local only. Per step it reports requests, errors by status
and cause, p50/p95/p99 latency, requests per second, the CPU share of the app and of the emulator, and
the app's resident memory; afterwards it checks every write acknowledged with a 2xx is present once.
Results go to benchmarks/results/load.json.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
STEPS = tuple(int(n) for n in os.environ.get("CLOUDKIDA_LOAD_STEPS", "50,100,200,400").split(","))
STEP_SECONDS = float(os.environ.get("CLOUDKIDA_LOAD_STEP_SECONDS", "45"))
THINK = (2.0, 8.0)
TENANTS = 8
PASSWORD = "Load-Test-Pass-2027"
GOAL_P99_MS = 2000
TIMEOUT = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """scripts/run-local.sh in its own process group, as `make run` starts it."""

    def __init__(self, port: int):
        self.port = port
        self.state = Path(tempfile.mkdtemp(prefix="cloudkida-load-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDKIDA_", "DJANGO_", "AWS_"))}
        env.update(
            CLOUDKIDA_LOCAL_STATE_DIR=str(self.state),
            CLOUDKIDA_PORT=str(port),
            CLOUDKIDA_SIGNUP_RATE_PER_HOUR="100000",
            DJANGO_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        )
        self.log = (self.state / "run.log").open("w")
        self.process = subprocess.Popen(  # noqa: S603
            [str(ROOT / "scripts/run-local.sh")],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = (self.state / "run.log").read_text()
            if "Listening at" in text and "CloudKida is running" in text:
                for _ in range(50):
                    try:
                        if requests.get(self.url("/healthz"), timeout=2).status_code == 200:
                            return
                    except requests.RequestException:
                        pass
                    time.sleep(0.2)
            if self.process.poll() is not None:
                raise RuntimeError("the local stack exited:\n" + text[-3000:])
            time.sleep(0.5)
        raise RuntimeError("the local stack did not start")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def endpoint(self) -> str:
        return json.loads((self.state / "localaws.json").read_text())["endpoint_url"]

    def pids(self) -> dict[str, list[int]]:
        """The app's processes (gunicorn master and workers) and the emulator's."""
        found: dict[str, list[int]] = {"app": [], "emulator": []}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if str(self.state).encode() not in environ:
                continue
            if "gunicorn" in cmdline:
                found["app"].append(int(entry.name))
            elif "scripts.localaws" in cmdline:
                found["emulator"].append(int(entry.name))
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            pass
    return total


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


@dataclass
class Recorder:
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    invited: list[tuple[str, str]] = field(default_factory=list)  # (tenant slug, email) acknowledged 2xx
    registered: list[str] = field(default_factory=list)  # slugs acknowledged 2xx

    def call(self, session: requests.Session, method: str, url: str, **kwargs) -> requests.Response | None:
        started = time.perf_counter()
        try:
            response = session.request(method, url, timeout=TIMEOUT, allow_redirects=False, **kwargs)
        except requests.Timeout:
            self._count(started, "timeout")
            return None
        except requests.RequestException as error:
            self._count(started, f"connection: {type(error).__name__}")
            return None
        cause = "" if response.status_code < 400 else f"status {response.status_code}"
        if response.status_code in {401, 403, 404, 409} and url.endswith("/api/v1/users") and method == "POST":
            cause = ""  # an expected refusal (already a user), not a failure
        self._count(started, cause)
        return response

    def _count(self, started: float, cause: str) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.requests += 1
            self.latencies.append(elapsed)
            if cause:
                self.errors[cause] += 1


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


class People:
    """The organisations and the people the simulated users are (signed up and invited through the API)."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.accounts: list[tuple[str, str]] = []  # (tenant slug, email) with PASSWORD set
        self.tokens: dict[str, str] = {}

    def create(self, users: int) -> None:
        api = requests.Session()
        cognito = _emulator_client(self.stack, "cognito-idp")
        per_tenant = max(1, users // TENANTS)
        for n in range(TENANTS):
            slug = f"load-{n}"
            body = {
                "name": f"Load Org {n}",
                "slug": slug,
                "admin_email": f"admin@{slug}.example",
                "admin_name": f"Admin {n}",
                "tier": "premium" if n % 2 else "standard",  # seats for 50 people each (Basic has 25)
                "country": "IN",
            }
            answer = api.post(self.stack.url("/api/v1/registrations"), json=body, timeout=30)
            answer.raise_for_status()
            self._wait_active(api, answer.json()["status_url"])
            pool, client_id = self._pool_of(slug)
            self._password(cognito, pool, f"admin@{slug}.example")
            token = self._token(cognito, pool, client_id, f"admin@{slug}.example")
            self.tokens[slug] = token
            self.accounts.append((slug, f"admin@{slug}.example"))
            headers = {"Authorization": f"Bearer {token}", "Host": "api.localhost"}
            for m in range(per_tenant - 1):
                email = f"person{m}@{slug}.example"
                invited = api.post(
                    self.stack.url("/api/v1/users"),
                    json={"email": email, "name": f"Person {m}"},
                    headers=headers,
                    timeout=30,
                )
                invited.raise_for_status()
                self._password(cognito, pool, email)
                self.accounts.append((slug, email))

    def _wait_active(self, session: requests.Session, status_url: str) -> None:
        for _ in range(300):
            if session.get(self.stack.url(status_url), timeout=10).json()["status"] == "ACTIVE":
                return
            time.sleep(0.2)
        raise RuntimeError(f"{status_url} did not become ACTIVE")

    def _pool_of(self, slug: str) -> tuple[str, str]:
        config = requests.get(self.stack.url(f"/api/v1/tenant-config/{slug}"), timeout=10).json()
        return config["issuer"].rsplit("/", 1)[-1], config["client_id"]

    @staticmethod
    def _password(cognito, pool: str, email: str) -> None:
        cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=PASSWORD, Permanent=True)

    @staticmethod
    def _token(cognito, pool: str, client_id: str, email: str) -> str:
        return cognito.admin_initiate_auth(
            UserPoolId=pool,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]["IdToken"]


class User(threading.Thread):
    """One person: signs in through the hosted UI, then browses and calls the API with think time."""

    def __init__(self, n: int, stack: Stack, people: People, recorder: Recorder, stop: threading.Event):
        super().__init__(daemon=True, name=f"user-{n}")
        self.n, self.stack, self.people, self.recorder, self.stop = n, stack, people, recorder, stop
        self.random = random.Random(n)
        self.slug, self.email = people.accounts[n % len(people.accounts)]
        self.host = {"Host": f"{self.slug}.localhost:{stack.port}"}

    def run(self) -> None:
        portal = requests.Session()
        if not self._sign_in(portal):
            return
        api = {"Authorization": f"Bearer {self.people.tokens[self.slug]}", "Host": "api.localhost"}
        admin = self.email.startswith("admin@")
        url = self.stack.url
        while not self.stop.wait(self.random.uniform(*THINK)):
            choice = self.random.random()
            if choice < 0.35:
                self.recorder.call(portal, "GET", url("/"), headers=self.host)
            elif choice < 0.55:
                self.recorder.call(portal, "GET", url("/api/v1/me"), headers=self.host)
            elif choice < 0.70:
                self.recorder.call(portal, "GET", url("/api/v1/tenant"), headers=api)
            elif choice < 0.85 and admin:
                self.recorder.call(portal, "GET", url("/api/v1/users"), headers=api)
            elif choice < 0.90 and admin:
                email = f"invitee{self.n}-{self.random.randrange(10**6)}@{self.slug}.example"
                answer = self.recorder.call(
                    portal, "POST", url("/api/v1/users"), json={"email": email, "name": "Invitee"}, headers=api
                )
                if answer is not None and answer.status_code == 201:
                    with self.recorder.lock:
                        self.recorder.invited.append((self.slug, email))
            elif choice < 0.92:
                slug = f"visitor-{self.n}-{self.random.randrange(10**6)}"
                body = {
                    "name": f"Visitor Org {slug}",
                    "slug": slug,
                    "admin_email": f"owner@{slug}.example",
                    "admin_name": "Owner",
                    "tier": "basic",
                    "country": "GB",
                }
                answer = self.recorder.call(portal, "POST", url("/api/v1/registrations"), json=body)
                if answer is not None and answer.status_code == 202:
                    with self.recorder.lock:
                        self.recorder.registered.append(slug)
            else:
                self.recorder.call(portal, "GET", url("/healthz"))

    def _sign_in(self, portal: requests.Session) -> bool:
        """The hosted-UI dance, as a browser does it (each request counted)."""
        hosted = requests.Session()
        start = self.recorder.call(portal, "GET", self.stack.url("/login/"), headers=self.host)
        if start is None or start.status_code != 302:
            return False
        authorize = urlsplit(start.headers["Location"])
        form = self.recorder.call(hosted, "GET", start.headers["Location"])
        if form is None or form.status_code != 200:
            return False
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        fields = {k: v[0] for k, v in parse_qs(authorize.query).items()}
        login = f"{authorize.scheme}://{authorize.netloc}" + authorize.path.replace("/oauth2/authorize", "/login")
        fields.update(csrfmiddlewaretoken=csrf.group(1) if csrf else "", username=self.email, password=PASSWORD)
        answer = self.recorder.call(hosted, "POST", login, data=fields, headers={"Referer": login})
        if answer is None or answer.status_code != 302:
            return False
        back = urlsplit(answer.headers["Location"])
        done = self.recorder.call(portal, "GET", self.stack.url(f"{back.path}?{back.query}"), headers=self.host)
        return done is not None and done.status_code == 302


def _emulator_client(stack: Stack, service: str):
    """A client of the stack's emulator, as an outsider sees it: this process has no Django settings, so
    not ``cloudkida.aws``."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=stack.endpoint(),
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _verify(stack: Stack, recorder: Recorder) -> dict:
    """Every acknowledged write is there exactly once (read straight from the emulator)."""
    dynamodb = _emulator_client(stack, "dynamodb")
    missing, duplicated = [], []
    control = "cloudkida-local-control"
    tenant_ids = {}
    for slug in {s for s, _ in recorder.invited} | set(recorder.registered):
        marker = dynamodb.get_item(TableName=control, Key={"PK": {"S": f"UNIQ#SLUG#{slug}"}, "SK": {"S": "UNIQ"}})
        if "Item" not in marker:
            missing.append(f"tenant {slug}")
            continue
        tenant_ids[slug] = marker["Item"]["owner_pk"]["S"].split("#", 1)[1]
    for slug, email in recorder.invited:
        if slug not in tenant_ids:
            continue
        key = {"PK": {"S": f"TENANT#{tenant_ids[slug]}"}, "SK": {"S": f"UNIQ#EMAIL#{email}"}}
        if "Item" not in dynamodb.get_item(TableName="cloudkida-local-tenant-data", Key=key):
            missing.append(email)
    emails = Counter(recorder.invited)
    duplicated += [email for (_slug, email), n in emails.items() if n > 1]
    return {
        "writes_acknowledged": len(recorder.invited) + len(recorder.registered),
        "missing": missing[:20],
        "missing_count": len(missing),
        "duplicated": duplicated[:20],
    }


def run() -> dict:
    stack = Stack(_free_port())
    steps: list[dict] = []
    try:
        stack.wait()
        people = People(stack)
        people.create(max(STEPS))
        recorder, stop = Recorder(), threading.Event()
        users: list[User] = []
        for size in STEPS:
            before = (recorder.requests, len(recorder.latencies), dict(recorder.errors))
            pids = stack.pids()
            cpu_before = {k: _cpu_seconds(v) for k, v in pids.items()}
            started = time.monotonic()
            while len(users) < size:
                user = User(len(users), stack, people, recorder, stop)
                users.append(user)
                user.start()
            peak_rss = 0.0
            while time.monotonic() - started < STEP_SECONDS:
                time.sleep(1)
                peak_rss = max(peak_rss, _rss_mb(stack.pids()["app"]))
            elapsed = time.monotonic() - started
            cpu_after = {k: _cpu_seconds(v) for k, v in stack.pids().items()}
            with recorder.lock:
                latencies = recorder.latencies[before[1] :]
                errors = Counter(recorder.errors)
                errors.subtract(before[2])
                count = recorder.requests - before[0]
            used = {k: cpu_after.get(k, 0) - cpu_before.get(k, 0) for k in ("app", "emulator")}
            steps.append(
                {
                    "users": size,
                    "requests": count,
                    "errors": {cause: n for cause, n in errors.items() if n},
                    "error_count": sum(n for n in errors.values() if n > 0),
                    "timeouts": errors.get("timeout", 0),
                    "p50_ms": _percentile(latencies, 0.50),
                    "p95_ms": _percentile(latencies, 0.95),
                    "p99_ms": _percentile(latencies, 0.99),
                    "rps": round(count / elapsed, 1),
                    "cpu_share_app": round(used["app"] / elapsed / (os.cpu_count() or 1), 3),
                    "cpu_share_emulator": round(used["emulator"] / elapsed / (os.cpu_count() or 1), 3),
                    "app_rss_mb_peak": peak_rss,
                }
            )
        stop.set()
        for user in users:
            user.join(timeout=TIMEOUT + 5)
        time.sleep(5)
        rss_after = _rss_mb(stack.pids()["app"])
        verification = _verify(stack, recorder)
    finally:
        stack.stop()
    last = steps[-1] if steps else {}
    ok = bool(last) and last["error_count"] == 0 and last["p99_ms"] <= GOAL_P99_MS and not verification["missing_count"]
    ok = ok and not verification["duplicated"]
    columns = [("users", 6), ("requests", 9), ("errors", 7), ("p50 ms", 8), ("p95 ms", 8), ("p99 ms", 8)]
    columns += [("rps", 6), ("app cpu", 8), ("aws cpu", 8), ("rss MB", 7)]
    header = " ".join(f"{name:>{width}}" for name, width in columns)
    rows = [
        f"Load: {TENANTS} tenants, think time {THINK[0]:g}–{THINK[1]:g} s, {STEP_SECONDS:g} s per step "
        "(local stack: gunicorn + moto server)",
        header,
        "-" * len(header),
    ]
    for step in steps:
        rows.append(
            f"{step['users']:>6} {step['requests']:>9} {step['error_count']:>7} {step['p50_ms']:>8} "
            f"{step['p95_ms']:>8} {step['p99_ms']:>8} {step['rps']:>6} {step['cpu_share_app']:>8.0%} "
            f"{step['cpu_share_emulator']:>8.0%} {step['app_rss_mb_peak']:>7}"
        )
        if step["errors"]:
            rows.append(f"{'':>6} errors: {step['errors']}")
    rows.append(f"app resident memory after the run: {rss_after} MB")
    rows.append(
        f"writes acknowledged: {verification['writes_acknowledged']}, missing: {verification['missing_count']}, "
        f"duplicated: {len(verification['duplicated'])}"
    )
    verdict = (
        f"{STEPS[-1]} users: 0 errors, p99 {last.get('p99_ms')} ms ≤ {GOAL_P99_MS} ms, "
        "every acknowledged write present once."
        if ok
        else f"Goal not met at {STEPS[-1]} users (0 errors and p99 ≤ {GOAL_P99_MS} ms): "
        "see the table and the CPU split."
    )
    return {
        "name": "load",
        "steps": steps,
        "app_rss_mb_after": rss_after,
        "verification": verification,
        "ok": ok,
        "verdict": verdict,
        "table": "\n".join(rows),
        "median_p99_ms": statistics.median([s["p99_ms"] for s in steps]) if steps else None,
    }
