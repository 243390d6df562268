"""The route-role matrix: who may call which API route. One table, read by DRF and the Lambda authorizer.

Each route is named as in ``urls.py`` and written with its API Gateway path. A rule lists the roles that
may call it and the least API-key scope an integrator key needs (None: keys may not call it). Routes not
in the matrix are refused (fail closed); a test checks every API URL is listed.

Key scopes: ``read`` for reads; ``write`` for the ordinary writes an integration makes (inviting users,
renaming them); ``admin`` for what changes who may do what (granting TenantAdmin, disabling a user).
Keys never manage keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudkida.identity.principal import Principal, Role, Scope

SA, CS, TA, TU = Role.SYSTEM_ADMIN, Role.CUSTOMER_SUPPORT, Role.TENANT_ADMIN, Role.TENANT_USER


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role] = frozenset()
    key_scope: Scope | None = None
    public: bool = False


def rule(*roles: Role, key: Scope | None = None) -> Rule:
    return Rule(roles=frozenset(roles), key_scope=key)


PUBLIC = Rule(public=True)


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    methods: dict[str, Rule]


ROUTES: tuple[Route, ...] = (
    Route("api-root", "/api/v1/", {"GET": PUBLIC}),
    Route("api-schema", "/api/v1/schema/", {"GET": PUBLIC}),
    Route("api-docs", "/api/v1/docs/", {"GET": PUBLIC}),
    Route("api-redoc", "/api/v1/redoc/", {"GET": PUBLIC}),
    Route("registration-create", "/api/v1/registrations", {"POST": PUBLIC}),
    Route("registration-status", "/api/v1/registrations/{tenant_id}", {"GET": PUBLIC}),
    Route("learner-registration-create", "/api/v1/learner-registrations", {"POST": PUBLIC}),
    Route("tenant-config", "/api/v1/tenant-config/{slug}", {"GET": PUBLIC}),
    Route("plan-list", "/api/v1/plans", {"GET": PUBLIC}),
    # System admins manage every tenant; customer support may only read.
    Route("tenant-list", "/api/v1/tenants", {"GET": rule(SA, CS)}),
    Route("tenant-detail", "/api/v1/tenants/{tenant_id}", {"GET": rule(SA, CS), "PATCH": rule(SA)}),
    Route("tenant-activate", "/api/v1/tenants/{tenant_id}/activate", {"POST": rule(SA)}),
    Route("tenant-deactivate", "/api/v1/tenants/{tenant_id}/deactivate", {"POST": rule(SA)}),
    Route("tenant-retry", "/api/v1/tenants/{tenant_id}/retry", {"POST": rule(SA)}),
    # A tenant's own data: the caller's tenant comes from its identity, never from the path.
    Route("me", "/api/v1/me", {"GET": rule(TA, TU, key=Scope.READ)}),
    Route("my-tenant", "/api/v1/tenant", {"GET": rule(TA, TU, key=Scope.READ), "PATCH": rule(TA)}),
    Route("user-list", "/api/v1/users", {"GET": rule(TA, key=Scope.READ), "POST": rule(TA, key=Scope.WRITE)}),
    Route("user-export", "/api/v1/users/export", {"GET": rule(TA, key=Scope.READ)}),
    Route(
        "user-detail",
        "/api/v1/users/{user_id}",
        {"GET": rule(TA, key=Scope.READ), "PATCH": rule(TA, key=Scope.WRITE), "DELETE": rule(TA, key=Scope.ADMIN)},
    ),
    Route("user-resend-invitation", "/api/v1/users/{user_id}/resend-invitation", {"POST": rule(TA, key=Scope.WRITE)}),
    Route(
        "user-import-list", "/api/v1/user-imports", {"GET": rule(TA, key=Scope.READ), "POST": rule(TA, key=Scope.WRITE)}
    ),
    Route("user-import-template", "/api/v1/user-imports/template", {"GET": rule(TA, key=Scope.READ)}),
    Route("user-import-detail", "/api/v1/user-imports/{import_id}", {"GET": rule(TA, key=Scope.READ)}),
    Route("user-import-resume", "/api/v1/user-imports/{import_id}/resume", {"POST": rule(TA, key=Scope.WRITE)}),
    Route("group-list", "/api/v1/groups", {"GET": rule(TA, key=Scope.READ), "POST": rule(TA, key=Scope.WRITE)}),
    Route(
        "group-detail",
        "/api/v1/groups/{group_id}",
        {"GET": rule(TA, key=Scope.READ), "PATCH": rule(TA, key=Scope.WRITE), "DELETE": rule(TA, key=Scope.WRITE)},
    ),
    Route(
        "group-member-list",
        "/api/v1/groups/{group_id}/members",
        {"GET": rule(TA, key=Scope.READ), "POST": rule(TA, key=Scope.WRITE)},
    ),
    Route("group-member-detail", "/api/v1/groups/{group_id}/members/{user_id}", {"DELETE": rule(TA, key=Scope.WRITE)}),
    Route(
        "group-policy",
        "/api/v1/groups/{group_id}/policy",
        {"GET": rule(TA, key=Scope.READ), "PUT": rule(TA, key=Scope.WRITE)},
    ),
    Route(
        "tenant-policy", "/api/v1/policies/tenant", {"GET": rule(TA, key=Scope.READ), "PUT": rule(TA, key=Scope.WRITE)}
    ),
    Route("audit-event-list", "/api/v1/audit-events", {"GET": rule(TA, key=Scope.READ)}),
    Route("audit-event-export", "/api/v1/audit-events/export", {"GET": rule(TA, key=Scope.READ)}),
    Route(
        "tenant-branding",
        "/api/v1/tenant/branding",
        {"GET": rule(TA, key=Scope.READ), "PATCH": rule(TA, key=Scope.WRITE)},
    ),
    Route(
        "tenant-branding-asset",
        "/api/v1/tenant/branding/{asset}",
        {"PUT": rule(TA, key=Scope.WRITE), "DELETE": rule(TA, key=Scope.WRITE)},
    ),
    Route("domain-list", "/api/v1/domains", {"GET": rule(TA, key=Scope.READ), "POST": rule(TA, key=Scope.ADMIN)}),
    Route("domain-detail", "/api/v1/domains/{domain}", {"DELETE": rule(TA, key=Scope.ADMIN)}),
    Route("domain-verify", "/api/v1/domains/{domain}/verify", {"POST": rule(TA, key=Scope.ADMIN)}),
    Route("api-key-list", "/api/v1/api-keys", {"GET": rule(TA), "POST": rule(TA)}),
    Route("api-key-detail", "/api/v1/api-keys/{key_id}", {"DELETE": rule(TA)}),
    # Integrations (accounts.integrations): webhooks send the tenant's data out, so keys need admin to
    # change them; a person's export and erasure are the admin's (and the person's own export).
    Route(
        "webhook-endpoint-list",
        "/api/v1/webhook-endpoints",
        {"GET": rule(TA, key=Scope.READ), "POST": rule(TA, key=Scope.ADMIN)},
    ),
    Route(
        "webhook-endpoint-detail",
        "/api/v1/webhook-endpoints/{endpoint_id}",
        {"GET": rule(TA, key=Scope.READ), "PATCH": rule(TA, key=Scope.ADMIN), "DELETE": rule(TA, key=Scope.ADMIN)},
    ),
    Route(
        "webhook-endpoint-secret", "/api/v1/webhook-endpoints/{endpoint_id}/secret", {"GET": rule(TA, key=Scope.ADMIN)}
    ),
    Route(
        "webhook-endpoint-rotate",
        "/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret",
        {"POST": rule(TA, key=Scope.ADMIN)},
    ),
    Route(
        "webhook-delivery-list",
        "/api/v1/webhook-endpoints/{endpoint_id}/deliveries",
        {"GET": rule(TA, key=Scope.READ)},
    ),
    Route(
        "webhook-delivery-redeliver",
        "/api/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver",
        {"POST": rule(TA, key=Scope.WRITE)},
    ),
    Route("webhook-event-type-list", "/api/v1/webhook-event-types", {"GET": rule(TA, key=Scope.READ)}),
    # Single sign-on decides who can sign in at all: the tenant admin's own, never a key's.
    Route("identity-provider-list", "/api/v1/identity-providers", {"GET": rule(TA), "POST": rule(TA)}),
    Route(
        "identity-provider-detail",
        "/api/v1/identity-providers/{provider_name}",
        {"GET": rule(TA), "PATCH": rule(TA), "DELETE": rule(TA)},
    ),
    Route("my-personal-data", "/api/v1/me/personal-data", {"GET": rule(TA, TU)}),
    Route("user-personal-data", "/api/v1/users/{user_id}/personal-data", {"GET": rule(TA, key=Scope.ADMIN)}),
    Route("user-erase", "/api/v1/users/{user_id}/erase", {"POST": rule(TA, key=Scope.ADMIN)}),
    # SCIM 2.0 for enterprise directories: an admin-scope API key as the bearer token, nothing else.
    Route("scim-users", "/api/v1/scim/v2/Users", {"GET": rule(key=Scope.ADMIN), "POST": rule(key=Scope.ADMIN)}),
    Route(
        "scim-user",
        "/api/v1/scim/v2/Users/{user_id}",
        {m: rule(key=Scope.ADMIN) for m in ("GET", "PUT", "PATCH", "DELETE")},
    ),
    Route("scim-groups", "/api/v1/scim/v2/Groups", {"GET": rule(key=Scope.ADMIN), "POST": rule(key=Scope.ADMIN)}),
    Route(
        "scim-group",
        "/api/v1/scim/v2/Groups/{group_id}",
        {m: rule(key=Scope.ADMIN) for m in ("GET", "PUT", "PATCH", "DELETE")},
    ),
    Route("scim-config", "/api/v1/scim/v2/ServiceProviderConfig", {"GET": rule(key=Scope.ADMIN)}),
    # Labs (labs.apis). Learners see and start what is theirs; tenant admins manage the tenant's labs,
    # assignments and sessions; keys: read for reads, write for the rest (starting a lab for a user too).
    Route("lab-list", "/api/v1/labs", {"GET": rule(TA, TU, key=Scope.READ), "POST": rule(TA, key=Scope.WRITE)}),
    Route(
        "lab-detail", "/api/v1/labs/{lab_id}", {"GET": rule(TA, TU, key=Scope.READ), "PATCH": rule(TA, key=Scope.WRITE)}
    ),
    Route("lab-publish", "/api/v1/labs/{lab_id}/publish", {"POST": rule(TA, key=Scope.WRITE)}),
    Route("lab-retire", "/api/v1/labs/{lab_id}/retire", {"POST": rule(TA, key=Scope.WRITE)}),
    Route("lab-enable", "/api/v1/labs/{lab_id}/enable", {"POST": rule(TA, key=Scope.WRITE)}),
    Route("lab-disable", "/api/v1/labs/{lab_id}/disable", {"POST": rule(TA, key=Scope.WRITE)}),
    Route(
        "lab-assignment-list",
        "/api/v1/labs/{lab_id}/assignments",
        {"GET": rule(TA, key=Scope.READ), "POST": rule(TA, key=Scope.WRITE)},
    ),
    Route(
        "lab-assignment-detail",
        "/api/v1/labs/{lab_id}/assignments/{assignee_type}/{assignee_id}",
        {"DELETE": rule(TA, key=Scope.WRITE)},
    ),
    Route("lab-progress", "/api/v1/labs/{lab_id}/progress", {"GET": rule(TA, key=Scope.READ)}),
    Route(
        "lab-session-list",
        "/api/v1/lab-sessions",
        {"GET": rule(TA, TU, key=Scope.READ), "POST": rule(TA, TU, key=Scope.WRITE)},
    ),
    Route("lab-session-detail", "/api/v1/lab-sessions/{session_id}", {"GET": rule(TA, TU, key=Scope.READ)}),
    Route("lab-session-extend", "/api/v1/lab-sessions/{session_id}/extend", {"POST": rule(TA, TU, key=Scope.WRITE)}),
    Route("lab-session-end", "/api/v1/lab-sessions/{session_id}/end", {"POST": rule(TA, TU, key=Scope.WRITE)}),
    # Access hands out AWS credentials: the learner's own, or an integration's (write) on its behalf.
    Route("lab-session-access", "/api/v1/lab-sessions/{session_id}/access", {"GET": rule(TA, TU, key=Scope.WRITE)}),
    Route(
        "lab-session-check",
        "/api/v1/lab-sessions/{session_id}/tasks/{task_id}/check",
        {"POST": rule(TA, TU, key=Scope.WRITE)},
    ),
    # LTI 1.3 (labs.lti): a tenant admin registers the organisation's learning platforms.
    Route(
        "lti-platform-list",
        "/api/v1/lti-platforms",
        {"GET": rule(TA, key=Scope.READ), "POST": rule(TA, key=Scope.ADMIN)},
    ),
    Route("lti-platform-detail", "/api/v1/lti-platforms/{platform_id}", {"DELETE": rule(TA, key=Scope.ADMIN)}),
    # Billing (billing.apis). Usage and invoices: the organisation's for admins and read keys, a learner's own
    # usage; credits: a learner's own wallet in the shared tenant, the organisation's for its admins (a
    # write key may start a checkout for it). The provider's webhook is public: its signature is the check.
    Route("usage", "/api/v1/usage", {"GET": rule(TA, TU, key=Scope.READ)}),
    Route("invoice-list", "/api/v1/invoices", {"GET": rule(TA, key=Scope.READ)}),
    Route("invoice-detail", "/api/v1/invoices/{month}", {"GET": rule(TA, key=Scope.READ)}),
    Route("credits", "/api/v1/credits", {"GET": rule(TA, TU, key=Scope.READ), "POST": rule(TA, TU, key=Scope.WRITE)}),
    Route("billing-webhook", "/api/v1/billing/webhook", {"POST": PUBLIC}),
    # The account pool: system admins act; support reads.
    Route("lab-account-list", "/api/v1/lab-accounts", {"GET": rule(SA, CS)}),
    Route("lab-account-detail", "/api/v1/lab-accounts/{account_id}", {"GET": rule(SA, CS)}),
    Route("lab-account-retry", "/api/v1/lab-accounts/{account_id}/retry-cleanup", {"POST": rule(SA)}),
    Route("lab-account-quarantine", "/api/v1/lab-accounts/{account_id}/quarantine", {"POST": rule(SA)}),
    Route("lab-account-eject", "/api/v1/lab-accounts/{account_id}/eject", {"POST": rule(SA)}),
    Route("lab-pool", "/api/v1/lab-pool", {"GET": rule(SA, CS)}),
)
BY_NAME = {route.name: route for route in ROUTES}


def rule_for(route_name: str, method: str) -> Rule | None:
    route = BY_NAME.get(route_name)
    return route.methods.get(method.upper()) if route else None


def allows(principal: Principal | None, rule_: Rule | None) -> bool:
    """Whether ``principal`` (None when anonymous) may use a route with ``rule_``."""
    if rule_ is None:
        return False
    if rule_.public:
        return True
    if principal is None:
        return False
    if principal.is_api_key:
        return rule_.key_scope is not None and principal.scope.rank >= rule_.key_scope.rank
    return principal.role in rule_.roles


def allowed_routes(principal: Principal) -> list[tuple[str, str]]:
    """Every (method, path) the principal may call, for the authorizer's policy."""
    return [(method, route.path) for route in ROUTES for method, r in route.methods.items() if allows(principal, r)]
