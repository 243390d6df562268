"""The Cognito triggers of single sign-on as production runs them: Cognito's event through the function's entry
point (``cloudkida.lambda_entry``, with Zappa's handler set up from the generated settings), and
AdminLinkProviderForUser as sent to Cognito (moto lacks it: a botocore Stubber checks the request)."""

from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from accounts import cognito as users
from accounts.integrations import federation
from accounts.selectors import user_get_by_email
from cloudkida import aws, resources
from tenants.selectors import tenant_get
from tests.conftest import tid
from tests.identity.conftest import bearer, login, register
from tests.zappa_support import ROOT, lambda_context

pytestmark = [pytest.mark.usefixtures("platform"), pytest.mark.django_db]


@pytest.fixture
def provider():
    register("acme")
    admin = bearer(login("acme", "admin@acme.example"))
    created = admin.post(
        "/api/v1/identity-providers",
        {
            "display_name": "Acme SSO",
            "issuer": "http://localhost:9",
            "client_id": "c",
            "client_secret": "s",
            "email_domains": ["acme.example"],
            "default_role": "TenantAdmin",
        },
        format="json",
    )
    assert created.status_code == 201
    return created.json()["provider_name"]


def _event(source: str, username: str, attributes: dict) -> dict:
    identity = tenant_get(tenant_id=tid("acme")).identity
    return {
        "version": "1",
        "region": "us-east-1",
        "userPoolId": identity["user_pool_id"],
        "userName": username,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": identity["client_id"]},
        "triggerSource": source,
        "request": {"userAttributes": attributes},
        "response": {},
    }


def test_the_entry_point_routes_the_triggers_and_zappa_never_touches_the_pools():
    stages = json.loads((ROOT / "zappa_settings.json").read_text())
    assert stages["dev"]["lambda_handler"] == "cloudkida.lambda_entry.lambda_handler"
    assert all(
        not stage.get("lambda_handler") or stage["lambda_handler"] == stages["dev"]["lambda_handler"]
        for stage in stages.values()
    )
    # With a `cognito` block, `zappa update` rewrites the pool (UpdateUserPool with only what Zappa knows).
    assert not any("cognito" in stage for stage in stages.values())
    for source, function in federation.TRIGGERS.items():
        assert resources.cognito_trigger(source).__name__ == function.rpartition(".")[2]
    assert resources.cognito_triggers() == ["PostConfirmation", "PreSignUp"]
    unknown = {"triggerSource": "CustomMessage_SignUp", "response": {}}
    assert resources.cognito_trigger("CustomMessage_SignUp")(unknown, None) is unknown  # as Zappa does


def test_the_zappa_handler_runs_the_triggers_with_cognitos_events(provider, lambda_handler):
    handler = lambda_handler
    pool = tenant_get(tenant_id=tid("acme")).identity["user_pool_id"]
    allowed = handler(
        _event("PreSignUp_ExternalProvider", f"{provider}_emp-9", {"email": "lin@acme.example"}), lambda_context()
    )
    assert allowed["triggerSource"] == "PreSignUp_ExternalProvider"  # returned: Cognito goes on
    made = aws.client("cognito-idp").admin_create_user(
        UserPoolId=pool,
        Username="lin@acme.example",
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": "lin@acme.example"},
            {"Name": "identities", "Value": json.dumps([{"providerName": provider, "userId": "emp-9"}])},
        ],
    )["User"]
    attributes = {a["Name"]: a["Value"] for a in made["Attributes"]}
    forged = {**attributes, "custom:tenantId": "0" * 26, "custom:userRole": "SystemAdmin"}
    handler(_event("PostConfirmation_ConfirmSignUp", made["Username"], forged), lambda_context())
    record = user_get_by_email(tenant_id=tid("acme"), email="lin@acme.example")
    assert record is not None and record.role.value == "TenantAdmin" and record.user_id == attributes["sub"]
    now = users.user_attributes(pool, "lin@acme.example")
    assert now["custom:tenantId"] == tid("acme") and now["custom:userRole"] == "TenantAdmin"
    with pytest.raises(federation.SignInRefused, match="not in a domain"):  # the Lambda fails: Cognito refuses
        handler(
            _event("PreSignUp_ExternalProvider", f"{provider}_emp-10", {"email": "x@elsewhere.example"}),
            lambda_context(),
        )


def test_linking_in_production_calls_admin_link_provider_for_user(settings):
    settings.CLOUDKIDA_COGNITO_EMULATOR = False
    cognito = aws.client("cognito-idp")
    with Stubber(cognito) as stub:
        stub.add_response(
            "admin_link_provider_for_user",
            {},
            {
                "UserPoolId": "us-east-1_pool",
                "DestinationUser": {"ProviderName": "Cognito", "ProviderAttributeValue": "ada@acme.example"},
                "SourceUser": {
                    "ProviderName": "prov-1",
                    "ProviderAttributeName": "Cognito_Subject",
                    "ProviderAttributeValue": "emp-2",
                },
            },
        )
        users.link_provider_for_user("us-east-1_pool", "ada@acme.example", provider_name="prov-1", subject="emp-2")
        stub.assert_no_pending_responses()


def test_pools_made_at_run_time_point_their_triggers_at_the_function(settings):
    from cloudkida import resources

    settings.CLOUDKIDA_COGNITO_TRIGGER_FUNCTION = "cloudkida-test"
    request = resources.user_pool_request("p", account_id="123456789012")
    arn = f"arn:aws:lambda:{settings.AWS_REGION}:123456789012:function:cloudkida-test"
    assert request["LambdaConfig"] == {"PostConfirmation": arn, "PreSignUp": arn}
    assert "LambdaConfig" not in resources.user_pool_request("ops", operations=True, account_id="123456789012")
    settings.CLOUDKIDA_COGNITO_TRIGGER_FUNCTION = ""
    assert "LambdaConfig" not in resources.user_pool_request("p", account_id="123456789012")


def test_the_stack_wires_the_pooled_pool_triggers_and_lets_cognito_invoke_the_function():
    template = json.loads((ROOT / "deploy" / "cloudkida-prod.template.json").read_text())
    resources_ = template["Resources"]
    wired = resources_["PooledUserPool"]["Properties"]["LambdaConfig"]["Fn::If"][1]
    assert set(wired) == {"PreSignUp", "PostConfirmation"}
    assert all("function:cloudkida-production" in v["Fn::Sub"] for v in wired.values())
    permission = resources_["CognitoTriggerPermission"]["Properties"]
    assert permission["Principal"] == "cognito-idp.amazonaws.com"
    assert permission["FunctionName"] == "cloudkida-production"
    assert "LambdaConfig" not in resources_["OperationsUserPool"]["Properties"]


def test_a_first_federated_sign_in_needs_a_free_seat(provider):
    from accounts.selectors import seats_of
    from accounts.services import user_create

    seats = seats_of(tenant_id=tid("acme"))
    for n in range(seats - 1):  # the admin holds one
        user_create(tenant_id=tid("acme"), email=f"p{n}@acme.example", name=f"P {n}")
    event = _event("PreSignUp_ExternalProvider", f"{provider}_emp-11", {"email": "late@acme.example"})
    with pytest.raises(federation.SignInRefused, match="seat"):
        federation.run_trigger(event)
    existing = _event("PreSignUp_ExternalProvider", f"{provider}_emp-12", {"email": "p0@acme.example"})
    assert federation.run_trigger(existing)["userName"] == f"{provider}_emp-12"  # a member needs no new seat
