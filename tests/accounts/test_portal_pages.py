"""The portal's management pages (people, imports, groups, policies, audit log, settings, the learner's
home), driven through Django's test client by people signed in for real (tests/portal.py), with the
cross-tenant and role refusals of every page."""

from __future__ import annotations

import html
import io
import re

import pytest
from django.test import Client
from PIL import Image

from accounts.imports import user_import_start
from accounts.selectors import group_list, policy_get, user_get_by_email
from accounts.services import group_add_member, group_create, user_invite
from tenants.selectors import domain_list, tenant_get
from tenants.services import domain_add
from tests.conftest import tid
from tests.fixtures_platform import mail_to
from tests.identity.conftest import register
from tests.portal import set_password, signed_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("platform", "hosted_ui")]


def _admin(slug: str) -> Client:
    register(slug)
    set_password(slug, f"admin@{slug}.example")
    return signed_in(slug, f"admin@{slug}.example")


def _learner(slug: str, email: str, name: str = "Lee Learner") -> Client:
    user_invite(tenant_id=tid(slug), email=email, name=name)
    set_password(slug, email)
    return signed_in(slug, email)


def _html(response) -> str:
    return html.unescape(response.content.decode())


def _toasts(response) -> str:
    return " ".join(re.findall(r'<div class="alert [a-z]+">([^<]*)</div>', _html(response)))


@pytest.fixture
def acme() -> Client:
    return _admin("acme")


def test_people_are_invited_searched_and_filtered_with_seats_against_the_plan(acme):
    invited = acme.post(
        "/people/invite/", {"email": "ada@acme.example", "name": "Ada Lovelace", "role": "TenantUser"}, follow=True
    )
    assert invited.status_code == 200 and "ada@acme.example is invited" in _toasts(invited)
    assert any("Temporary password" in body for body in mail_to("ada@acme.example"))
    acme.post("/people/invite/", {"email": "grace@acme.example", "name": "Grace Hopper", "role": "TenantAdmin"})
    again = acme.post("/people/invite/", {"email": "ada@acme.example", "name": "Ada", "role": "TenantUser"})
    assert again.status_code == 409 and "already a user of your organisation" in _html(again)
    bad = acme.post("/people/invite/", {"email": "not-an-email", "name": "", "role": "TenantUser"})
    assert bad.status_code == 400 and "Enter a valid email address" in _html(bad)

    page = _html(acme.get("/people/"))
    assert "Ada Lovelace" in page and "Grace Hopper" in page and 'value="3" max="25"' in page
    assert "22 free on your plan" in page
    found = _html(acme.get("/people/", {"q": "lovelace"}))
    assert "Ada Lovelace" in found and "Grace Hopper" not in found
    admins = _html(acme.get("/people/", {"role": "TenantAdmin"}))
    assert "Grace Hopper" in admins and "Ada Lovelace" not in admins
    assert "Nobody matches" in _html(acme.get("/people/", {"status": "DISABLED"}))
    assert 'href="/api/v1/users/export?q=lovelace"' in found
    export = acme.get("/api/v1/users/export", {"q": "lovelace"})  # the session is a credential of the API
    assert export.status_code == 200 and "ada@acme.example" in export.content.decode()
    assert acme.get("/people/", {"cursor": "forged"}).status_code == 400


def test_role_status_invitation_and_delete_and_the_last_admin_is_protected(acme):
    tenant_id = tid("acme")
    admin = user_get_by_email(tenant_id=tenant_id, email="admin@acme.example")
    assert "You are the organisation's last active administrator" in _html(acme.get(f"/people/{admin.user_id}/"))
    demoted = acme.post(f"/people/{admin.user_id}/role", {"role": "TenantUser", "version": admin.version}, follow=True)
    assert "last active TenantAdmin" in _toasts(demoted)
    deleted = acme.post(f"/people/{admin.user_id}/delete", {"version": admin.version}, follow=True)
    assert "last active TenantAdmin" in _toasts(deleted)
    assert user_get_by_email(tenant_id=tenant_id, email="admin@acme.example") is not None

    ada = user_invite(tenant_id=tenant_id, email="ada@acme.example", name="Ada")
    page = _html(acme.get(f"/people/{ada.user_id}/"))
    assert "Resend invitation" in page and "Disable" in page
    resent = acme.post(f"/people/{ada.user_id}/resend", follow=True)
    assert "new invitation is on its way" in _toasts(resent) and len(mail_to("ada@acme.example")) == 2
    promoted = acme.post(f"/people/{ada.user_id}/role", {"role": "TenantAdmin", "version": ada.version}, follow=True)
    assert "role is changed" in _toasts(promoted)
    stale = acme.post(f"/people/{ada.user_id}/role", {"role": "TenantUser", "version": ada.version}, follow=True)
    assert "changed" in _toasts(stale) and "Administrator" in _html(stale)  # the stale version was refused
    ada = user_get_by_email(tenant_id=tenant_id, email="ada@acme.example")
    disabled = acme.post(f"/people/{ada.user_id}/status", {"status": "DISABLED", "version": ada.version}, follow=True)
    assert "is disabled" in _toasts(disabled) and "Enable" in _html(disabled)
    ada = user_get_by_email(tenant_id=tenant_id, email="ada@acme.example")
    enabled = acme.post(f"/people/{ada.user_id}/status", {"status": "ACTIVE", "version": ada.version}, follow=True)
    assert "can sign in again" in _toasts(enabled)
    ada = user_get_by_email(tenant_id=tenant_id, email="ada@acme.example")
    gone = acme.post(f"/people/{ada.user_id}/delete", {"version": ada.version}, follow=True)
    assert "is deleted" in _toasts(gone) and user_get_by_email(tenant_id=tenant_id, email="ada@acme.example") is None
    assert acme.get(f"/people/{ada.user_id}/").status_code == 404


CSV = (
    "email,name,role,groups\n"
    "one@acme.example,One Learner,,Cohort A\n"
    "two@acme.example,Two Learner,TenantUser,Cohort A; Cohort B\n"
    "not-an-email,Broken Row,,\n"
    "one@acme.example,One Again,,\n"
    "three@acme.example,,TenantUser,\n"
)


def test_a_csv_import_shows_its_progress_then_a_report_per_row_and_runs_again_without_duplicates(acme):
    template = acme.get("/api/v1/user-imports/template")
    assert template.status_code == 200 and template.content.decode().startswith("email,name,role,groups")
    started = acme.post("/people/import/", {"file": io.BytesIO(CSV.encode()) | _named("class.csv")})
    assert started.status_code == 302
    report = acme.get(started["Location"])
    html = _html(report)
    assert "Import finished" in html and "<strong>2</strong> created" in html and "<strong>3</strong> invalid" in html
    assert "not a valid email address" in html and "the same email as row 1" in html and "the name is empty" in html
    invalid = _html(acme.get(started["Location"], {"outcome": "invalid"}))
    assert "Broken Row" in invalid and "two@acme.example" not in invalid
    import_id = started["Location"].rstrip("/").rsplit("/", 1)[1]
    progress = acme.get(f"/people/import/{import_id}/progress")
    assert progress.status_code == 200 and "5 of 5 rows processed" in _html(progress)
    polled = acme.get(f"/people/import/{import_id}/progress", HTTP_HX_REQUEST="true")
    assert polled.headers.get("HX-Refresh") == "true"  # finished: the page reloads to show the report

    rerun = acme.post("/people/import/", {"file": io.BytesIO(CSV.encode()) | _named("class.csv")}, follow=True)
    assert "<strong>0</strong> created" in _html(rerun) and "<strong>2</strong> already members" in _html(rerun)
    assert "class.csv" in _html(acme.get("/people/import/"))
    refused = acme.post("/people/import/", {"file": io.BytesIO(b"who,what\nx,y\n") | _named("bad.csv")})
    assert refused.status_code == 400 and "must name the columns" in _html(refused)
    assert {g.name for g in group_list(tenant_id=tid("acme")).items} == {"Cohort A", "Cohort B"}


class _NamedBytes(io.BytesIO):
    name = "upload.csv"


def _named(name: str):
    """``io.BytesIO(...) | _named("x.csv")``: the bytes as an upload with a file name."""

    class Namer:
        def __ror__(self, data: io.BytesIO):
            upload = _NamedBytes(data.getvalue())
            upload.name = name
            return upload

    return Namer()


def test_groups_are_created_renamed_given_members_and_a_policy_and_deleted_when_empty(acme):
    tenant_id = tid("acme")
    ada = user_invite(tenant_id=tenant_id, email="ada@acme.example", name="Ada")
    assert "No groups yet" in _html(acme.get("/groups/"))
    created = acme.post("/groups/", {"name": "Cohort 2027", "description": "Spring intake"}, follow=True)
    assert "Cohort 2027" in _html(created) and "is created" in _toasts(created)
    (group,) = group_list(tenant_id=tenant_id).items
    twice = acme.post("/groups/", {"name": "cohort 2027"})
    assert twice.status_code == 409 and "already a group called" in _html(twice)

    added = acme.post(f"/groups/{group.group_id}/members", {"email": "ada@acme.example"}, follow=True)
    assert "is added" in _toasts(added) and "ada@acme.example" in _html(added)
    stranger = acme.post(f"/groups/{group.group_id}/members", {"email": "nobody@acme.example"})
    assert stranger.status_code == 400 and "invite them first" in _html(stranger)
    refused = acme.post(f"/groups/{group.group_id}/delete", {"version": 99}, follow=True)
    assert "Remove the group's members first" in _toasts(refused)

    policy = acme.post(
        f"/groups/{group.group_id}/policy",
        {"version": 0, "max_concurrent_labs": "0", "monthly_lab_minutes": "", "allowed_lab_ids": ""},
    )
    assert policy.status_code == 400 and "from 1 to 50" in _html(policy)
    saved = acme.post(
        f"/groups/{group.group_id}/policy",
        {"version": 0, "max_concurrent_labs": "2", "allowed_regions": ["eu-west-1"], "allowed_lab_ids": "s3-basics"},
        follow=True,
    )
    assert "policy is saved" in _toasts(saved)
    stored = policy_get(tenant_id=tenant_id, group_id=group.group_id)
    assert (stored.max_concurrent_labs, stored.allowed_regions, stored.allowed_lab_ids) == (
        2,
        ["eu-west-1"],
        ["s3-basics"],
    )

    group = group_list(tenant_id=tenant_id).items[0]
    renamed = acme.post(
        f"/groups/{group.group_id}/rename",
        {"name": "Cohort 2028", "description": "", "version": group.version},
        follow=True,
    )
    assert "<h1>Cohort 2028</h1>" in _html(renamed)
    person = _html(acme.get(f"/people/{ada.user_id}/"))
    assert "Cohort 2028" in person
    acme.post(f"/groups/{group.group_id}/members", {"remove": ada.user_id})
    group = group_list(tenant_id=tenant_id).items[0]
    deleted = acme.post(f"/groups/{group.group_id}/delete", {"version": group.version}, follow=True)
    assert "is deleted" in _toasts(deleted) and group_list(tenant_id=tenant_id).items == []


def test_the_tenant_policy_form_validates_and_the_learner_home_shows_what_applies(acme):
    bad = acme.post("/policies/", {"version": 0, "monthly_lab_minutes": "-5", "max_concurrent_labs": "3"})
    assert bad.status_code == 400 and "monthly_lab_minutes must be a whole number" in _html(bad)
    saved = acme.post(
        "/policies/", {"version": 0, "monthly_lab_minutes": "600", "max_concurrent_labs": "1"}, follow=True
    )
    assert "policy is saved" in _toasts(saved) and 'value="600"' in _html(saved)
    stale = acme.post("/policies/", {"version": 0, "monthly_lab_minutes": "60"})
    assert stale.status_code == 409 and "reload" in _html(stale)
    tenant_id = tid("acme")
    group = group_create(tenant_id=tenant_id, name="Night class")
    lee = _learner("acme", "lee@acme.example")
    group_add_member(
        tenant_id=tenant_id,
        group_id=group.group_id,
        user_id=user_get_by_email(tenant_id=tenant_id, email="lee@acme.example").user_id,
    )
    home = _html(lee.get("/"))
    assert "Welcome, Lee Learner" in home and "Night class" in home
    assert re.search(r"Labs at once</dt><dd>1</dd>", home) and re.search(r"Lab minutes a month</dt><dd>600</dd>", home)
    assert 'href="/labs/"' in home and 'href="/people/"' not in home  # the learner's navigation only


def _png(colour="red") -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(out, "PNG")
    upload = _NamedBytes(out.getvalue())
    upload.name = "logo.png"
    return upload


def test_settings_change_branding_upload_a_logo_refuse_svg_and_verify_a_domain(acme, settings):
    records: dict[str, list[str]] = {}
    settings.CLOUDKIDA_DNS_RESOLVER = "static"
    settings.CLOUDKIDA_DNS_STATIC_RECORDS = records
    page = _html(acme.get("/settings/"))
    assert "Basic" in page and "$49.00" in page and "allows 1" in page and "data-brand-preview" in page
    version = tenant_get(tenant_id=tid("acme")).version
    bad = acme.post(
        "/settings/branding",
        {"version": version, "display_name": "Acme", "primary_color": "red", "accent_color": "#0b3d91"},
    )
    assert bad.status_code == 400 and "hex value" in _html(bad)
    saved = acme.post(
        "/settings/branding",
        {
            "version": version,
            "display_name": "Acme Academy",
            "primary_color": "#aa2200",
            "accent_color": "#0b3d91",
            "support_email": "help@acme.example",
            "support_url": "",
            "login_message": "Welcome, cadets.",
        },
        follow=True,
    )
    assert "branding is saved" in _toasts(saved) and "Acme Academy" in _html(saved)
    assert "#aa2200" in Client(HTTP_HOST="acme.localhost:8000").get("/theme.css").content.decode()
    assert "#aa2200" not in Client(HTTP_HOST="globex.localhost:8000").get("/theme.css").content.decode()
    stale = acme.post(
        "/settings/branding",
        {"version": version, "display_name": "Old", "primary_color": "#000000", "accent_color": "#000000"},
    )
    assert stale.status_code == 409

    uploaded = acme.post("/settings/logo/upload", {"logo-file": _png()}, follow=True)
    assert "new logo is showing" in _toasts(uploaded) and 'src="/branding/logo?v=' in _html(uploaded)
    svg = _NamedBytes(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    svg.name = "logo.png"
    refused = acme.post("/settings/favicon/upload", {"favicon-file": svg})
    assert refused.status_code == 400 and "SVG images are not accepted" in _html(refused)
    removed = acme.post("/settings/logo/remove", follow=True)
    assert "logo is removed" in _toasts(removed)

    added = acme.post("/settings/domains", {"domain": "learn.acme.example"}, follow=True)
    assert "waiting for DNS" in _html(added)
    token = re.search(r"cloudkida-verify=[\w-]+", _html(added)).group(0)
    missing = acme.post("/settings/domains/learn.acme.example/verify", follow=True)
    assert "No TXT record _cloudkida.learn.acme.example" in _toasts(missing)
    records["_cloudkida.learn.acme.example"] = [token]
    verified = acme.post("/settings/domains/learn.acme.example/verify", follow=True)
    assert "is verified" in _toasts(verified) and 'badge ok">verified' in _html(verified)
    over = acme.post("/settings/domains", {"domain": "second.acme.example"})
    assert over.status_code == 402 and "allows 1 custom domain" in _html(over)
    acme.post("/settings/domains/learn.acme.example/remove")
    assert "No custom domains" in _html(acme.get("/settings/"))


def test_the_audit_log_lists_admin_actions_filtered_by_action_and_actor(acme):
    acme.post("/people/invite/", {"email": "ada@acme.example", "name": "Ada", "role": "TenantUser"})
    acme.post("/groups/", {"name": "Cohort"})
    page = _html(acme.get("/audit/"))
    assert "Invited ada@acme.example as TenantUser" in page and "Created the group Cohort" in page
    invites = _html(acme.get("/audit/", {"action": "user.invited"}))
    assert "Invited ada@acme.example" in invites and "Created the group" not in invites
    assert 'href="/api/v1/audit-events/export?action=user.invited"' in invites
    nobody = _html(acme.get("/audit/", {"actor": "TenantAdmin:someone@else.example"}))
    assert "No events match" in nobody
    wrong = acme.get("/audit/", {"since": "2027-01-02", "until": "2027-01-01"})
    assert "The end must not be before the start" in _html(wrong)


def test_another_tenants_ids_are_not_found_and_learners_and_strangers_are_refused(acme):
    acme_id = tid("acme")
    ada = user_invite(tenant_id=acme_id, email="ada@acme.example", name="Ada")
    group = group_create(tenant_id=acme_id, name="Acme cohort")
    job = user_import_start(tenant_id=acme_id, data="email,name\nx@acme.example,X\n")
    domain_add(tenant_id=acme_id, domain="learn.acme.example", actor="test")
    globex = _admin("globex")
    globex_admin = user_get_by_email(tenant_id=tid("globex"), email="admin@globex.example")
    into_acme_group = globex.post(f"/people/{globex_admin.user_id}/groups", {"group_id": group.group_id})
    assert into_acme_group.status_code == 404 and group.member_count == 0
    version = {"version": 0}
    for path in (
        f"/people/{ada.user_id}/",
        f"/groups/{group.group_id}/",
        f"/people/import/{job.import_id}/",
        f"/people/import/{job.import_id}/progress",
    ):
        assert globex.get(path).status_code == 404, path
    for path, data in (
        (f"/people/{ada.user_id}/role", {"role": "TenantAdmin", **version}),
        (f"/people/{ada.user_id}/status", {"status": "DISABLED", **version}),
        (f"/people/{ada.user_id}/resend", {}),
        (f"/people/{ada.user_id}/delete", version),
        (f"/groups/{group.group_id}/rename", {"name": "Mine", **version}),
        (f"/groups/{group.group_id}/delete", version),
        (f"/groups/{group.group_id}/members", {"email": "admin@globex.example"}),
        (f"/groups/{group.group_id}/policy", {"max_concurrent_labs": "1", **version}),
        (f"/people/import/{job.import_id}/resume", {}),
        ("/settings/domains/learn.acme.example/verify", {}),
        ("/settings/domains/learn.acme.example/remove", {}),
        ("/settings/wallpaper/upload", {}),
    ):
        response = globex.post(path, data)
        assert response.status_code == 404, (path, response.status_code)
    assert "Ada" not in _html(globex.get("/people/")) and "Acme cohort" not in _html(globex.get("/groups/"))
    assert user_get_by_email(tenant_id=acme_id, email="ada@acme.example").status.value == "ACTIVE"
    assert [(g.name, g.member_count) for g in group_list(tenant_id=acme_id).items] == [("Acme cohort", 0)]
    assert [d.hostname for d in domain_list(tenant_id=acme_id)] == ["learn.acme.example"]

    learner = _learner("acme", "lee@acme.example")
    admin_pages = (
        "/people/",
        "/people/invite/",
        "/people/import/",
        f"/people/{ada.user_id}/",
        "/groups/",
        f"/groups/{group.group_id}/",
        "/policies/",
        "/audit/",
        "/settings/",
        f"/people/import/{job.import_id}/",
    )
    for path in admin_pages:
        assert learner.get(path).status_code == 403, path
    for path in (f"/people/{ada.user_id}/delete", "/groups/", "/settings/branding", "/settings/domains", "/policies/"):
        assert learner.post(path, {"name": "x", "version": 0}).status_code == 403, path
    anonymous = Client(HTTP_HOST="acme.localhost:8000")
    for path in admin_pages:
        assert anonymous.get(path)["Location"].startswith("/login/"), path
