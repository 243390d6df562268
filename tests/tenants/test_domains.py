"""Custom domains: a DNS TXT token proves control, the domain then maps to the tenant and is a callback URL
of its app client; one tenant per domain; removal frees it."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from cloudkida import aws, dnscheck
from tenants.selectors import tenant_get
from tests.conftest import tid
from tests.identity.conftest import bearer, login, register

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


@pytest.fixture
def dns(settings):
    records: dict[str, list[str]] = {}
    settings.CLOUDKIDA_DNS_RESOLVER = "static"
    settings.CLOUDKIDA_DNS_STATIC_RECORDS = records
    return records


@pytest.fixture
def admins():
    register("acme")
    register("globex")
    return bearer(login("acme", "admin@acme.example")), bearer(login("globex", "admin@globex.example"))


def _callbacks(slug: str) -> list[str]:
    tenant = tenant_get(tenant_id=tid(slug))
    client = aws.client("cognito-idp").describe_user_pool_client(
        UserPoolId=tenant.identity["user_pool_id"], ClientId=tenant.identity["client_id"]
    )["UserPoolClient"]
    return client["CallbackURLs"] + client["LogoutURLs"]


def test_a_domain_is_verified_by_its_txt_record_then_serves_the_tenant_and_signs_in_there(admins, dns):
    acme, _globex = admins
    added = acme.post("/api/v1/domains", {"domain": "Learn.Acme.Example."}, format="json")
    assert added.status_code == 201, added.json()
    claim = added.json()
    assert claim["domain"] == "learn.acme.example" and claim["status"] == "PENDING"
    assert claim["record_name"] == "_cloudkida.learn.acme.example"
    assert claim["record_value"].startswith("cloudkida-verify=")
    assert APIClient(HTTP_HOST="learn.acme.example").get("/").status_code == 400  # not served while pending

    missing = acme.post("/api/v1/domains/learn.acme.example/verify")
    assert missing.status_code == 400 and missing.json()["code"] == "dns_record_missing"
    assert missing.json()["details"]["record_value"] == claim["record_value"]

    dns["_cloudkida.learn.acme.example"] = ["v=spf1 -all", claim["record_value"]]
    verified = acme.post("/api/v1/domains/learn.acme.example/verify")
    assert verified.status_code == 200 and verified.json()["status"] == "VERIFIED"
    assert APIClient(HTTP_HOST="learn.acme.example").get("/").status_code == 200
    assert "http://learn.acme.example:8000/oidc/callback/" in _callbacks("acme")
    assert [d["status"] for d in acme.get("/api/v1/domains").json()["results"]] == ["VERIFIED"]

    assert acme.delete("/api/v1/domains/learn.acme.example").status_code == 204
    assert APIClient(HTTP_HOST="learn.acme.example").get("/").status_code == 400
    assert not any("learn.acme.example" in url for url in _callbacks("acme"))
    assert acme.get("/api/v1/domains").json()["results"] == []
    assert acme.delete("/api/v1/domains/learn.acme.example").status_code == 404
    actions = {e["action"] for e in acme.get("/api/v1/audit-events").json()["results"]}
    assert {"domain.added", "domain.verified", "domain.removed"} <= actions


def test_one_tenant_per_domain_and_a_freed_domain_can_be_taken(admins, dns):
    acme, globex = admins
    mine = acme.post("/api/v1/domains", {"domain": "labs.shared.example"}, format="json").json()
    theirs = globex.post("/api/v1/domains", {"domain": "labs.shared.example"}, format="json").json()
    assert mine["record_value"] != theirs["record_value"]  # a pending claim holds nothing
    dns["_cloudkida.labs.shared.example"] = [mine["record_value"], theirs["record_value"]]
    assert acme.post("/api/v1/domains/labs.shared.example/verify").status_code == 200
    taken = globex.post("/api/v1/domains/labs.shared.example/verify")
    assert taken.status_code == 409 and taken.json()["code"] == "domain_taken"
    assert globex.get("/api/v1/domains").json()["results"][0]["status"] == "PENDING"
    again = acme.post("/api/v1/domains", {"domain": "labs.shared.example"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_exists"
    acme.delete("/api/v1/domains/labs.shared.example")
    assert globex.post("/api/v1/domains/labs.shared.example/verify").status_code == 200
    page = APIClient(HTTP_HOST="labs.shared.example").get("/")
    assert page.status_code == 200 and tenant_get(tenant_id=tid("globex")).name.encode() in page.content


def test_domains_are_validated_and_limited_by_the_plan(admins, dns):
    acme, _ = admins
    for bad in (
        "localhost",
        "acme.localhost",
        "10.0.0.1",
        "nodot",
        "-bad-.example",
        "a..b.example",
        "x" * 64 + ".example",
    ):
        refused = acme.post("/api/v1/domains", {"domain": bad}, format="json")
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_domain", bad
    assert acme.post("/api/v1/domains", {"domain": "one.acme.example"}, format="json").status_code == 201
    over = acme.post("/api/v1/domains", {"domain": "two.acme.example"}, format="json")  # basic: 1 domain
    assert over.status_code == 402 and over.json()["code"] == "domain_limit_reached"
    assert acme.post("/api/v1/domains/not-a-domain/verify").status_code == 404


def test_the_static_resolver_reads_a_json_file_and_the_dns_resolver_is_dnspython(settings, tmp_path):
    path = tmp_path / "dns.json"
    path.write_text(json.dumps({"_cloudkida.Learn.Example.": ["cloudkida-verify=abc"]}))
    settings.CLOUDKIDA_DNS_RESOLVER = "static"
    settings.CLOUDKIDA_DNS_STATIC_RECORDS = str(path)
    assert dnscheck.txt_records("_cloudkida.learn.example") == ["cloudkida-verify=abc"]
    assert dnscheck.txt_records("_cloudkida.other.example") == []
    settings.CLOUDKIDA_DNS_STATIC_RECORDS = str(tmp_path / "missing.json")
    assert dnscheck.txt_records("_cloudkida.learn.example") == []
    settings.CLOUDKIDA_DNS_RESOLVER = "carrier-pigeon"
    with pytest.raises(ValueError):
        dnscheck.txt_records("x.example")
