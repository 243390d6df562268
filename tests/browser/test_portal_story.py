"""The tenant portal as a training manager and a learner meet it, in Chromium: an organisation signs up,
its admin signs in with the emailed temporary password and chooses one, brands the portal (live preview,
logo), invites a learner, imports a class from CSV (progress, then the per-row report), sets up a group and
a policy; the learner signs in and sees the branded portal. axe-core runs on every page (no violations),
and one pass at a phone's width checks nothing scrolls sideways."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tenants.services import tenant_register
from tests.browser.conftest import no_horizontal_scroll, sign_in, sign_up
from tests.fixtures_platform import temporary_password

pytestmark = pytest.mark.django_db(transaction=True)
ADMIN = "owner@globex.example"
LEARNER = "lee@globex.example"
ADMIN_PASSWORD = "Owner-Pass-2027x"
LEARNER_PASSWORD = "Learner-Pass-2027x"
PRIMARY = "#aa2200"


def _class_csv() -> bytes:
    """A class of 150 learners (two pages of the report), three of them bad: row 40 has no valid email,
    row 120 repeats row 3, row 149 has no name. (`python -m benchmarks portal` imports 5,000 rows.)"""
    rows = [f"student{n}@globex.example,Student {n},,Cohort 2027" for n in range(1, 151)]
    rows[39] = "not-an-email,Broken Row,,"
    rows[119] = "student3@globex.example,Student Three Again,,"
    rows[148] = "nameless@globex.example,,,"
    return ("email,name,role,groups\n" + "\n".join(rows) + "\n").encode()


def _logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 32), PRIMARY).save(out, "PNG")
    return out.getvalue()


def _visit(tab, url: str, heading: str, shot: str = "") -> None:
    tab.page.goto(url)
    tab.page.get_by_role("heading", name=heading, exact=True).first.wait_for()
    tab.audit()
    if shot:
        tab.screenshot(shot)


def test_an_admin_brands_the_portal_invites_and_imports_and_a_learner_sees_it(site, browser, chromium, settings):
    settings.CLOUDKIDA_JOB_RUNNER = "thread"  # as under `make run`: the import runs while its page polls
    page = browser.page
    sign_up(browser, site, tier="premium")
    tenant_register(
        name="Initech",
        slug="initech",
        admin_email="bill@initech.example",
        admin_name="Bill",
        tier="basic",
        country="US",
        client_address="test",
    )
    sign_in(browser, site, "globex", ADMIN, temporary_password(ADMIN), new_password=ADMIN_PASSWORD)
    page.get_by_role("heading", name="Globex Learning").wait_for()
    browser.audit()
    browser.screenshot("dashboard")

    # Branding, with the preview following the form before anything is saved.
    _visit(browser, site.tenant("globex", "/settings/"), "Settings")
    page.get_by_label("Display name").fill("Globex Academy")
    assert page.locator("[data-preview='display_name']").inner_text() == "Globex Academy"
    page.get_by_label("Primary colour").fill(PRIMARY)
    bar = page.locator("[data-preview-bar]")
    assert bar.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(170, 34, 0)"
    page.get_by_label("Sign-in page message").fill("Welcome to the Globex cloud academy.")
    browser.screenshot("branding-preview")
    page.get_by_role("button", name="Save branding").click()
    page.get_by_text("Your branding is saved").wait_for()
    page.locator("#id_logo-file").set_input_files({"name": "logo.png", "mimeType": "image/png", "buffer": _logo()})
    page.get_by_role("button", name="Upload logo").click()
    page.get_by_text("Your new logo is showing").wait_for()
    page.locator("#id_favicon-file").set_input_files(
        {"name": "icon.png", "mimeType": "image/png", "buffer": b'<svg onload="alert(1)"></svg>'}
    )
    page.get_by_role("button", name="Upload favicon").click()
    page.get_by_text("SVG images are not accepted").wait_for()
    browser.audit("refused-upload")
    assert page.locator(".topbar").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(170, 34, 0)"
    assert page.locator(".topbar .brand img").count() == 1
    browser.screenshot("branded")

    # Invite a learner.
    _visit(browser, site.tenant("globex", "/people/"), "People")
    page.get_by_role("link", name="Invite someone").click()
    browser.audit()
    page.get_by_label("Email").fill(LEARNER)
    page.get_by_label("Name").fill("Lee Learner")
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_role("heading", name="Lee Learner").wait_for()
    browser.audit()

    # Import a class: progress while it runs, then the report.
    _visit(browser, site.tenant("globex", "/people/import/"), "Import people from a CSV file")
    page.get_by_label("CSV file").set_input_files({"name": "class.csv", "mimeType": "text/csv", "buffer": _class_csv()})
    page.get_by_role("button", name="Upload and import").click()
    page.get_by_role("heading", name="Importing…").wait_for()
    browser.audit("running")
    browser.screenshot("import-progress")
    page.get_by_role("heading", name="Report").wait_for(timeout=300_000)
    status = page.locator("#import-progress [role=status]").inner_text()
    assert "150 of 150 rows processed: 147 created, 0 already members, 3 invalid" in status
    assert page.get_by_role("cell", name="student100@globex.example").is_visible()  # 100 rows a page
    assert page.get_by_role("cell", name="student101@globex.example").count() == 0
    browser.audit()
    page.get_by_label("Show").select_option("invalid")
    page.get_by_role("button", name="Show").click()
    page.get_by_text("the same email as row 3").wait_for()
    assert (
        page.get_by_text("not a valid email address").is_visible()
        and page.get_by_text("the name is empty").is_visible()
    )
    assert page.get_by_role("cell", name="student1@globex.example").count() == 0
    browser.screenshot("import-report")
    _visit(browser, site.tenant("globex", "/people/?q=student117%40"), "People")
    page.get_by_role("link", name="Student 117", exact=True).wait_for()
    assert page.get_by_role("link", name="Student 1", exact=True).count() == 0  # filtered out by the search
    assert page.locator("progress[aria-label='Seats used']").get_attribute("value") == "149"  # admin, Lee, 147

    # A group and the organisation's policy.
    _visit(browser, site.tenant("globex", "/groups/"), "Groups")
    page.get_by_role("link", name="Cohort 2027").click()
    page.get_by_role("heading", name="Cohort 2027").wait_for()
    browser.audit()
    page.get_by_label("Email of a person in your organisation").fill(LEARNER)
    page.get_by_role("button", name="Add to group").click()
    page.get_by_text(f"{LEARNER} is added").wait_for()
    _visit(browser, site.tenant("globex", "/policies/"), "Your organisation's policy")
    page.get_by_label("Labs at once, per person").fill("2")
    page.get_by_label("eu-west-1").check()
    page.get_by_role("button", name="Save policy").click()
    page.get_by_text("Your organisation's policy is saved").wait_for()
    _visit(browser, site.tenant("globex", "/audit/"), "Audit log", "audit-log")
    assert page.get_by_text(f"Invited {LEARNER} as TenantUser").is_visible()
    _visit(browser, site.tenant("globex", "/api-keys/"), "API keys")
    page.get_by_role("textbox", name="Name").fill("LMS sync")
    page.get_by_role("radio", name=re.compile(r"^Read")).check()
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-key-secret").inner_text()
    assert secret.startswith("ck_") and page.get_by_text("it will not be shown again").is_visible()
    browser.audit("key-created")
    browser.screenshot("api-key-created")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke LMS sync").click()
    page.get_by_text("revoked", exact=False).first.wait_for()
    assert secret not in page.content()  # shown once, never again
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign in").wait_for()
    page.goto(site.tenant("globex", "/people/"))  # signed out: the portal sends the admin to sign in again
    page.get_by_role("heading", name="Sign in to Globex Academy").wait_for()

    # The learner signs in on the branded sign-in page (another organisation's shows none of it).
    learner_context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        learner = type(browser)(learner_context.new_page(), browser.name + "-learner")
        learner.page.set_default_timeout(15_000)
        learner.page.goto(site.tenant("initech", "/login/"))
        assert "Globex" not in learner.page.content()
        learner.page.goto(site.tenant("globex", "/login/"))
        learner.page.get_by_role("heading", name="Sign in to Globex Academy").wait_for()
        assert learner.page.get_by_text("Welcome to the Globex cloud academy.").is_visible()
        learner.screenshot("branded-sign-in")
        sign_in(learner, site, "globex", LEARNER, temporary_password(LEARNER), new_password=LEARNER_PASSWORD)
        learner.page.get_by_role("heading", name="Welcome, Lee Learner").wait_for()
        learner.audit()
        home = learner.page
        assert home.locator(".topbar").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(170, 34, 0)"
        assert home.locator(".brand").inner_text().strip() == "Globex Academy"
        assert home.get_by_text("Cohort 2027").is_visible() and home.get_by_text("eu-west-1").is_visible()
        assert home.get_by_role("link", name="People").count() == 0
        learner.screenshot("learner-home")
        _visit(learner, site.tenant("globex", "/labs/"), "My labs")
        learner.page.goto(site.tenant("globex", "/people/"))
        assert learner.page.get_by_text("This page is for your organisation's administrators.").is_visible()
    finally:
        learner_context.close()

    # One pass at a phone's width: nothing scrolls sideways, and axe still finds nothing.
    phone_context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        phone = type(browser)(phone_context.new_page(), browser.name + "-phone")
        phone.page.set_default_timeout(15_000)
        sign_in(phone, site, "globex", ADMIN, ADMIN_PASSWORD)
        for path, heading in (
            ("/", "Globex Academy"),
            ("/people/", "People"),
            ("/people/import/", "Import people from a CSV file"),
            ("/groups/", "Groups"),
            ("/audit/", "Audit log"),
            ("/settings/", "Settings"),
        ):
            _visit(phone, site.tenant("globex", path), heading)
            no_horizontal_scroll(phone)
        phone.screenshot("settings-phone")
        assert re.search(r"Globex Academy", phone.page.locator(".topbar").inner_text())
    finally:
        phone_context.close()
