"""Sign-in the same way locally as in production: the user a sign-up just created signs in with the
emailed temporary password, must choose a new one, and lands in the portal; forgotten password and
sign-out work too."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import sign_in, sign_up, verification_code
from tests.fixtures_platform import temporary_password

pytestmark = pytest.mark.django_db(transaction=True)
NEW_PASSWORD = "Brand-New-Pass-2027"


def test_a_new_organisations_admin_signs_in_with_the_emailed_password(site, browser):
    sign_up(browser, site)
    browser.page.get_by_role("link", name="Go to Globex Learning").click()
    password = temporary_password("owner@globex.example")
    sign_in(browser, site, "globex", "owner@globex.example", password, new_password=NEW_PASSWORD)
    page = browser.page
    page.get_by_role("heading", name="Globex Learning").wait_for()
    assert page.get_by_text("Olive Owner · Administrator").is_visible()
    browser.audit()
    browser.screenshot("dashboard")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Sign in").wait_for()
    # The temporary password is spent; the chosen one works, and no new password is asked for.
    sign_in(browser, site, "globex", "owner@globex.example", NEW_PASSWORD)
    assert page.get_by_text("Olive Owner · Administrator").is_visible()


def test_a_wrong_password_or_a_weak_new_one_is_a_clear_message(site, browser):
    sign_up(browser, site)
    page = browser.page
    page.goto(site.tenant("globex", "/login/"))
    page.get_by_label("Email").fill("owner@globex.example")
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Incorrect username or password."
    page.get_by_label("Password", exact=True).fill(temporary_password("owner@globex.example"))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("New password").fill("tooweakpassword")
    page.get_by_label("Repeat it").fill("tooweakpassword")
    page.get_by_role("button", name="Set password and sign in").click()
    assert "at least 12 characters" in page.get_by_role("alert").inner_text()


def test_a_forgotten_password_is_reset_with_the_emailed_code(site, browser):
    sign_up(browser, site)
    sign_in(
        browser,
        site,
        "globex",
        "owner@globex.example",
        temporary_password("owner@globex.example"),
        new_password=NEW_PASSWORD,
    )
    page = browser.page
    page.get_by_role("button", name="Sign out").click()
    page.goto(site.tenant("globex", "/login/"))
    page.get_by_role("link", name="Forgot your password?").click()
    browser.audit()
    page.get_by_label("Email").fill("owner@globex.example")
    page.get_by_role("button", name="Send me a code").click()
    page.get_by_label("Code").fill(verification_code("owner@globex.example"))
    page.get_by_label("New password").fill("Reset-Pass-2027x")
    page.get_by_role("button", name="Change password").click()
    assert "Your password was changed" in page.get_by_role("status").inner_text()
    page.get_by_label("Password", exact=True).fill("Reset-Pass-2027x")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^http://globex\.localhost:\d+/"))
    assert page.get_by_text("Olive Owner · Administrator").is_visible()


def test_a_user_of_another_organisation_cannot_sign_in_here(site, browser):
    sign_up(browser, site)
    sign_up(browser, site, slug="initech", name="Initech", admin="bill@initech.example")
    page = browser.page
    page.goto(site.tenant("globex", "/login/"))
    page.get_by_label("Email").fill("bill@initech.example")
    page.get_by_label("Password", exact=True).fill(temporary_password("bill@initech.example"))
    page.get_by_role("button", name="Sign in").click()
    # Globex's app client is in the pooled pool with Initech's users, so Cognito signs Bill in; the portal
    # refuses the token's tenant.
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Repeat it").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    page.get_by_text("This account does not belong to this organisation.").wait_for()
    browser.audit()
