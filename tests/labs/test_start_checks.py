"""Every reason a lab start is refused, each with its own error — before anything is provisioned."""

from __future__ import annotations

import pytest

from accounts.services import group_add_member, group_create, policy_set
from cloudkida.errors import ApplicationError, PaymentRequired
from labs import ports
from labs.domain import SessionState
from labs.selectors import lab_usage
from labs.services import lab_create, lab_retire, lab_session_start
from tenants.services import tenant_deactivate
from tests.labs.conftest import BUCKET_TEMPLATE, TASKS, global_lab, learner, offer, register


@pytest.fixture
def acme(platform):
    tenant_id = register("acme")
    return tenant_id, learner(tenant_id)


def _refused(tenant_id, user_id, lab_id, **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as refused:
        lab_session_start(tenant_id=tenant_id, user_id=user_id, lab_id=lab_id, actor="test", **kwargs)
    return refused.value


def test_a_deactivated_tenant_cannot_start_labs(acme):
    tenant_id, lee = acme
    lab = global_lab()
    offer(tenant_id, lab, lee)
    tenant_deactivate(tenant_id=tenant_id, actor="test")
    error = _refused(tenant_id, lee, lab.lab_id)
    assert (error.status, error.code) == (403, "tenant_deactivated")


def test_an_unknown_user_or_lab_is_not_found(acme):
    tenant_id, lee = acme
    lab = global_lab()
    offer(tenant_id, lab, lee)
    assert _refused(tenant_id, "nobody", lab.lab_id).code == "user_not_found"
    error = _refused(tenant_id, lee, "01nosuchlab00000000000000")
    assert (error.status, error.code) == (404, "lab_not_found")


def test_another_tenants_private_lab_is_not_found(acme):
    tenant_id, lee = acme
    globex = register("globex")
    theirs = lab_create(owner=globex, actor="t", template=BUCKET_TEMPLATE, title="Theirs", slug="theirs", tasks=TASKS)
    assert _refused(tenant_id, lee, theirs.lab_id).code == "lab_not_found"


def test_a_draft_or_retired_lab_cannot_be_started(acme):
    tenant_id, lee = acme
    draft = lab_create(owner=tenant_id, actor="t", template=BUCKET_TEMPLATE, title="Draft", slug="draft", tasks=TASKS)
    error = _refused(tenant_id, lee, draft.lab_id)
    assert (error.status, error.code) == (409, "lab_not_published")
    lab = global_lab()
    offer(tenant_id, lab, lee)
    lab_retire(owner="", lab_id=lab.lab_id, actor="t")
    assert _refused(tenant_id, lee, lab.lab_id).code == "lab_not_published"


def test_a_global_lab_the_tenant_does_not_offer_or_has_not_assigned(acme):
    tenant_id, lee = acme
    lab = global_lab()
    error = _refused(tenant_id, lee, lab.lab_id)
    assert (error.status, error.code) == (403, "lab_not_enabled")
    from labs.services import lab_enable

    lab_enable(tenant_id=tenant_id, lab_id=lab.lab_id, enabled=True, actor="t")
    error = _refused(tenant_id, lee, lab.lab_id)
    assert (error.status, error.code) == (403, "lab_not_assigned")


def test_policies_limit_labs_and_regions(acme):
    tenant_id, lee = acme
    lab = global_lab(slug="two-regions", **{})
    offer(tenant_id, lab, lee)
    policy = policy_set(tenant_id=tenant_id, expected_version=0, allowed_lab_ids=["some-other-lab"])
    error = _refused(tenant_id, lee, lab.lab_id)
    assert (error.status, error.code) == (403, "lab_not_allowed")
    policy = policy_set(
        tenant_id=tenant_id, expected_version=policy.version, allowed_lab_ids=None, allowed_regions=["eu-west-1"]
    )
    error = _refused(tenant_id, lee, lab.lab_id)
    assert (error.status, error.code) == (403, "region_not_allowed")
    error = _refused(tenant_id, lee, lab.lab_id, region="ap-south-1")
    assert (error.status, error.code) == (400, "region_not_offered")


def test_concurrent_labs_and_monthly_minutes_are_limited(acme, pool, federation):
    tenant_id, lee = acme
    first, second = global_lab(slug="first"), global_lab(slug="second")
    offer(tenant_id, first, lee)
    offer(tenant_id, second, lee)
    group = group_create(tenant_id=tenant_id, name="Cohort")
    group_add_member(tenant_id=tenant_id, group_id=group.group_id, user_id=lee)
    policy_set(tenant_id=tenant_id, group_id=group.group_id, expected_version=0, max_concurrent_labs=1)
    assert (
        lab_session_start(tenant_id=tenant_id, user_id=lee, lab_id=first.lab_id, actor="t").state is SessionState.READY
    )
    error = _refused(tenant_id, lee, second.lab_id)
    assert (error.status, error.code, error.details["limit"]) == (429, "concurrent_labs_exceeded", 1)
    policy_set(tenant_id=tenant_id, expected_version=0, monthly_lab_minutes=100)  # the tenant's: a ceiling
    policy_set(tenant_id=tenant_id, group_id=group.group_id, expected_version=1, max_concurrent_labs=5)
    error = _refused(tenant_id, lee, second.lab_id)  # 60 minutes used, 60 more would exceed 100
    assert (error.status, error.code) == (429, "monthly_lab_minutes_exceeded")
    assert lab_usage(tenant_id=tenant_id, user_id=lee) == (1, 60)


def test_a_second_start_of_the_same_lab_while_the_first_is_starting(acme, monkeypatch):
    tenant_id, lee = acme
    lab = global_lab()
    offer(tenant_id, lab, lee)
    monkeypatch.setattr("labs.services.runs.start", lambda *args, **kwargs: None)  # provisioning never runs
    first = lab_session_start(tenant_id=tenant_id, user_id=lee, lab_id=lab.lab_id, actor="t")
    assert first.state is SessionState.REQUESTED
    error = _refused(tenant_id, lee, lab.lab_id)
    assert (error.status, error.code) == (409, "session_already_starting")
    assert lab_usage(tenant_id=tenant_id, user_id=lee) == (1, 60)  # the refusal counted nothing


class Wallet:
    def check_start(self, request):
        if request.budget_usd > 5:
            raise PaymentRequired("Top up your wallet.", code="wallet_empty", details={"needed": request.budget_usd})


def test_a_registered_start_guard_can_veto_a_start(acme):
    tenant_id, lee = acme
    lab = global_lab()
    offer(tenant_id, lab, lee)
    guard = Wallet()
    ports.register_start_guard(guard)
    try:
        error = _refused(tenant_id, lee, lab.lab_id)
    finally:
        ports.unregister_start_guard(guard)
    assert (error.status, error.code, error.details) == (402, "wallet_empty", {"needed": 10.0})
    assert lab_usage(tenant_id=tenant_id, user_id=lee) == (0, 0)


def test_an_empty_pool_fails_the_session_with_the_reason(acme, platform):
    from labs.services import shard_register

    shard_register(shard_id="main")  # a shard, but no accounts
    tenant_id, lee = acme
    lab = global_lab()
    offer(tenant_id, lab, lee)
    session = lab_session_start(tenant_id=tenant_id, user_id=lee, lab_id=lab.lab_id, actor="t")
    assert session.state is SessionState.FAILED and session.failed_step == "lease"
    assert "pool_exhausted" in session.failure_reason
    assert lab_usage(tenant_id=tenant_id, user_id=lee) == (0, 0)
