"""Branding: validated fields, images checked by content and served under the tenant's own host only,
CloudKida's defaults for a tenant with none."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from PIL import Image
from rest_framework.test import APIClient

from cloudkida import assets, aws
from tenants.selectors import branding_for, tenant_get
from tests.conftest import tid
from tests.identity.conftest import bearer, login, register

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


@pytest.fixture
def acme():
    register("acme")
    register("globex")
    return bearer(login("acme", "admin@acme.example"))


def image(fmt: str, size=(64, 32), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


def upload(api, asset: str, data: bytes, name: str):
    file = io.BytesIO(data)
    file.name = name
    return api.put(f"/api/v1/tenant/branding/{asset}", {"file": file}, format="multipart")


def test_a_tenant_with_no_branding_gets_cloudkidas_defaults(acme):
    tenant = tenant_get(tenant_id=tid("acme"))
    resolved = branding_for(tenant)
    assert resolved["display_name"] == "Acme Org" and resolved["is_default"] is True
    assert resolved["primary_color"] == "#1f6feb" and resolved["logo_url"] == ""
    assert resolved["favicon_url"].startswith("/static/") and resolved["favicon_absolute_url"].startswith("http")
    assert resolved["has_logo"] is False and resolved["login_message"] == ""
    assert branding_for(None)["display_name"] == "CloudKida"
    assert acme.get("/api/v1/tenant/branding").json()["primary_color"] == "#1f6feb"


def test_branding_fields_are_validated_and_cleared(acme):
    version = acme.get("/api/v1/tenant/branding").json()["version"]
    changed = acme.patch(
        "/api/v1/tenant/branding",
        {
            "version": version,
            "display_name": "Acme Academy",
            "primary_color": "#0A0",
            "accent_color": "#ff8800",
            "support_email": "Help@Acme.Example",
            "support_url": "https://acme.example/help",
            "login_message": "Welcome!\n\n\n\nUse your work email.\x07",
        },
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    body = changed.json()
    assert body["primary_color"] == "#00aa00" and body["support_email"] == "help@acme.example"
    assert body["login_message"] == "Welcome!\n\nUse your work email." and body["is_default"] is False
    for field, value, code in [
        ("primary_color", "red", "invalid_colour"),
        ("accent_color", "#12345g", "invalid_colour"),
        ("support_email", "nope", "invalid_email"),
        ("support_url", "javascript:alert(1)", "invalid_url"),
        ("display_name", "x", "invalid_name"),
    ]:
        refused = acme.patch("/api/v1/tenant/branding", {"version": body["version"], field: value}, format="json")
        assert refused.status_code == 400 and refused.json()["code"] == code, field
        assert refused.json()["details"] == {"field": field}
    too_long = acme.patch("/api/v1/tenant/branding", {"version": body["version"], "login_message": "x" * 501})
    assert too_long.status_code == 400
    cleared = acme.patch("/api/v1/tenant/branding", {"version": body["version"], "primary_color": ""}, format="json")
    assert cleared.json()["primary_color"] == "#1f6feb" and cleared.json()["display_name"] == "Acme Academy"
    stale = acme.patch("/api/v1/tenant/branding", {"version": body["version"], "accent_color": "#000"})
    assert stale.status_code == 409
    actions = [e["action"] for e in acme.get("/api/v1/audit-events").json()["results"]]
    assert actions.count("branding.updated") == 2


@pytest.mark.parametrize("fmt,content_type", [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_a_logo_is_checked_reencoded_stored_under_the_tenants_prefix_and_served_on_its_host_only(
    acme, fmt, content_type
):
    original = image(fmt) + b"<script>appended polyglot</script>"
    response = upload(acme, "logo", original, "logo.bin")
    assert response.status_code == 200, response.json()
    branding = response.json()
    assert branding["has_logo"] is True and branding["logo_url"].startswith("/branding/logo?v=")
    tenant = tenant_get(tenant_id=tid("acme"))
    key = tenant.branding["logo_key"]
    assert key.startswith(assets.tenant_prefix(tid("acme")) + "branding/logo-")
    stored = aws.client("s3").get_object(Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Key=key)["Body"].read()
    assert b"<script>" not in stored and Image.open(io.BytesIO(stored)).format == fmt

    served = APIClient(HTTP_HOST="acme.localhost").get("/branding/logo")
    assert served.status_code == 200 and served["Content-Type"] == content_type
    assert served["X-Content-Type-Options"] == "nosniff" and served.content == stored
    assert APIClient(HTTP_HOST="globex.localhost").get("/branding/logo").status_code == 404  # not another's host
    assert APIClient(HTTP_HOST="localhost").get("/branding/logo").status_code == 404
    assert APIClient(HTTP_HOST="acme.localhost").get("/branding/banner").status_code == 404


def test_uploads_that_are_not_safe_images_are_refused_with_clear_messages(acme):
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    big = image("PNG") + b"\0" * 1_010_000  # over 1 MB, within the request limit
    cases = [
        ("oversized", big, "logo.png", "image_too_large", "larger than 1 MB"),
        ("text named .png", b"just some text, not an image", "logo.png", "invalid_image", "not a PNG, JPEG or WebP"),
        ("gif", gif.getvalue(), "logo.gif", "invalid_image", "This file is a GIF"),
        ("svg with script", svg, "logo.svg", "svg_not_allowed", "can carry scripts"),
        ("svg named .png", svg, "logo.png", "svg_not_allowed", "can carry scripts"),
        ("truncated png", image("PNG")[:60], "logo.png", "invalid_image", "damaged"),
        ("too many pixels", image("PNG", size=(1500, 1500)), "favicon.png", "image_too_large", "pixels"),
    ]
    for label, data, name, code, words in cases:
        asset = "favicon" if name.startswith("favicon") else "logo"
        refused = upload(acme, asset, data, name)
        assert refused.status_code == 400, (label, refused.content)
        assert refused.json()["code"] == code and words in refused.json()["message"], (label, refused.json())
    huge = upload(acme, "logo", b"\0" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), "logo.png")
    assert huge.status_code == 413 and huge.json()["code"] == "payload_too_large"
    assert tenant_get(tenant_id=tid("acme")).branding == {}
    listed = aws.client("s3").list_objects_v2(
        Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Prefix=assets.tenant_prefix(tid("acme"))
    )
    assert listed.get("KeyCount", 0) == 0


def test_a_new_logo_replaces_the_old_object_and_delete_goes_back_to_the_default(acme):
    first = upload(acme, "logo", image("PNG"), "a.png").json()
    second = upload(acme, "logo", image("PNG", colour=(0, 0, 255)), "b.png").json()
    assert first["logo_url"] != second["logo_url"]
    prefix = assets.tenant_prefix(tid("acme")) + "branding/"
    keys = lambda: [  # noqa: E731
        o["Key"]
        for o in aws.client("s3")
        .list_objects_v2(Bucket=settings.CLOUDKIDA_ASSETS_BUCKET, Prefix=prefix)
        .get("Contents", [])
    ]
    assert len(keys()) == 1
    upload(acme, "favicon", image("PNG", size=(32, 32)), "f.png")
    removed = acme.delete("/api/v1/tenant/branding/logo")
    assert removed.status_code == 200 and removed.json()["has_logo"] is False and removed.json()["has_favicon"]
    assert removed.json()["logo_url"] == ""
    assert [k.rsplit("/", 1)[-1].split("-")[0] for k in keys()] == ["favicon"]
    assert APIClient(HTTP_HOST="acme.localhost").get("/branding/logo").status_code == 404
    assert acme.put("/api/v1/tenant/branding/banner", {}, format="multipart").status_code == 404


def test_production_puts_the_tenants_colours_and_logo_on_its_cognito_hosted_ui(acme, settings):
    """moto does not implement SetUICustomization, so Cognito's answer comes from a botocore Stubber on the
    app's own client (the request is still validated against Cognito's API model); what it carries is ours."""
    from botocore.stub import Stubber

    settings.CLOUDKIDA_COGNITO_UI_CUSTOMIZATION = True
    identity = tenant_get(tenant_id=tid("acme")).identity
    cognito = aws.client("cognito-idp")
    sent: list[dict] = []

    def capture(params, **kwargs):
        sent.append(dict(params))

    cognito.meta.events.register("provide-client-params.cognito-idp.SetUICustomization", capture)
    try:
        with Stubber(cognito) as stub:
            for _ in range(2):
                stub.add_response("set_ui_customization", {"UICustomization": {"UserPoolId": identity["user_pool_id"]}})
            version = acme.get("/api/v1/tenant/branding").json()["version"]
            changed = acme.patch(
                "/api/v1/tenant/branding", {"primary_color": "#aa2200", "version": version}, format="json"
            )
            assert changed.status_code == 200, changed.json()
            assert upload(acme, "logo", image("PNG"), "logo.png").status_code == 200
            stub.assert_no_pending_responses()
    finally:
        cognito.meta.events.unregister("provide-client-params.cognito-idp.SetUICustomization", capture)
    colours, with_logo = sent
    for call in sent:
        assert (call["UserPoolId"], call["ClientId"]) == (identity["user_pool_id"], identity["client_id"])
        assert ".banner-customizable { background-color: #aa2200; }" in call["CSS"]
    assert "ImageFile" not in colours and with_logo["ImageFile"].startswith(b"\x89PNG")


def test_the_hosted_ui_is_left_alone_locally_and_a_refusal_never_loses_the_branding(acme, settings):
    from botocore.stub import Stubber

    cognito = aws.client("cognito-idp")
    with Stubber(cognito) as stub:  # no response queued: any Cognito call would fail the request
        version = acme.get("/api/v1/tenant/branding").json()["version"]
        assert (
            acme.patch(
                "/api/v1/tenant/branding", {"accent_color": "#ff8800", "version": version}, format="json"
            ).status_code
            == 200
        )
        settings.CLOUDKIDA_COGNITO_UI_CUSTOMIZATION = True
        stub.add_client_error("set_ui_customization", "InvalidParameterException", "bad CSS")
        version = acme.get("/api/v1/tenant/branding").json()["version"]
        saved = acme.patch("/api/v1/tenant/branding", {"primary_color": "#00aa00", "version": version}, format="json")
        stub.assert_no_pending_responses()
    assert saved.status_code == 200 and saved.json()["primary_color"] == "#00aa00"
