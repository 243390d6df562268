"""The portal in a real browser: Debian's Chromium driven by Playwright against the app served by
pytest-django's live server, with moto in-process behind it and the Cognito hosted-UI emulation in it.

Every page a test visits is checked with axe-core (0 violations), and key screens are kept as screenshots
under ``tests/artifacts/`` (ignored by git).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

from tests.fixtures_platform import emails_to, text_of

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
_axe = Axe()
# Playwright's sync API keeps an event loop in the test thread; Django's database teardown then believes it
# runs in async code. Nothing here is async, so tell Django so (tests only).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, platform, settings, transactional_db):
    """The app on a live server, configured as `make run` would be on that port."""
    port = urlsplit(live_server.url).port
    settings.CLOUDKIDA_PUBLIC_PORT = str(port)
    settings.CLOUDKIDA_COGNITO_EMULATOR_URL = f"http://localhost:{port}/_cognito"
    settings.CLOUDKIDA_SIGNUP_RATE_PER_HOUR = 1000
    return Site(port)


class Site:
    def __init__(self, port: int):
        self.port = port

    def url(self, path: str = "/", host: str = "localhost") -> str:
        return f"http://{host}:{self.port}{path}"

    def tenant(self, slug: str, path: str = "/") -> str:
        return self.url(path, host=f"{slug}.localhost")


class Browser:
    """A browser tab with the checks every visit gets: axe-core and, on request, a screenshot."""

    def __init__(self, page, name: str):
        self.page = page
        self.name = name
        self.shots = 0
        self.audited: set[str] = set()

    def screenshot(self, label: str) -> Path:
        self.shots += 1
        path = ARTIFACTS / self.name / f"{self.shots:02d}-{label}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def audit(self, label: str = "") -> None:
        """axe-core on the current page: no violations (checked once per distinct path)."""
        key = urlsplit(self.page.url).path + label
        if key in self.audited:
            return
        self.audited.add(key)
        results = _axe.run(self.page)
        violations = [
            f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
            for v in results.response["violations"]
        ]
        assert violations == [], f"axe-core on {self.page.url}: {violations}"


@pytest.fixture
def browser(chromium, request):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield Browser(page, request.node.name)
    context.close()


@pytest.fixture
def phone(chromium, request):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield Browser(page, request.node.name + "-phone")
    context.close()


def verification_code(address: str) -> str:
    codes = [m for m in emails_to(address) if "verification code" in m["subject"]]
    assert codes, f"no verification code was sent to {address}"
    return re.search(r"verification code is (\S+)", text_of(codes[-1])).group(1)


def sign_up(
    tab: Browser, site: Site, *, slug="globex", name="Globex Learning", admin="owner@globex.example", tier="basic"
):
    """Sign an organisation up on the public page and wait until it is ready."""
    page = tab.page
    page.goto(site.url("/signup/"))
    tab.audit()
    page.get_by_label("Organisation name").fill(name)
    page.get_by_label("Subdomain").fill(slug)
    page.get_by_label("Your name").fill("Olive Owner")
    page.get_by_label("Your work email").fill(admin)
    page.get_by_label("Country").fill("GB")
    page.get_by_label("Tier").select_option(tier)
    tab.screenshot("sign-up")
    page.get_by_role("button", name="Create my organisation").click()
    page.get_by_text(f"{name} is ready").wait_for()
    tab.audit()
    tab.screenshot("ready")


def no_horizontal_scroll(tab: Browser) -> None:
    """The page fits the viewport's width (wide tables scroll inside their own box, not the page)."""
    widths = tab.page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{tab.page.url} scrolls sideways: {widths}"


def sign_in(tab: Browser, site: Site, slug: str, address: str, password: str, *, new_password: str | None = None):
    """Sign in on the tenant's host through its hosted UI; at first sign-in choose ``new_password``."""
    page = tab.page
    page.goto(site.tenant(slug, "/login/"))
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password", exact=True).fill(password)
    tab.audit("sign-in")
    page.get_by_role("button", name="Sign in").click()
    if new_password:
        page.get_by_role("heading", name="Choose your password").wait_for()
        tab.audit("new-password")
        page.get_by_label("New password").fill(new_password)
        page.get_by_label("Repeat it").fill(new_password)
        page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_url(re.compile(rf"^http://{slug}\.localhost:{site.port}/"))
