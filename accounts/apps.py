from django.apps import AppConfig

from cloudkida.dynamo.registry import CONTROL, TENANT, TENANT_DATA, TENANT_PARTITION, ItemKind, register


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from accounts import events as account_events
        from accounts import imports, invitations
        from accounts.admin import api_keys_panel, people_panel
        from accounts.integrations import federation, webhooks
        from accounts.services import TenantMembers
        from cloudkida import apidocs, email, events, jobs, navigation, resources
        from cloudkida.navigation import ADMINS, NavItem
        from tenants import ports
        from tenants.audit import describe_actions

        for kind in ITEM_KINDS:
            register(kind)
        events.declare(*account_events.TYPES)
        events.set_recorder(webhooks.record)
        resources.register_queue(webhooks.QUEUE)
        resources.register_schedule(webhooks.SCHEDULE)
        for source, function in federation.TRIGGERS.items():
            resources.register_cognito_trigger(source, function)
        jobs.register(imports.JOB, imports.run_slice)
        email.register_composer(invitations.KIND, invitations.compose_again)
        describe_actions(AUDIT_ACTIONS)
        apidocs.extension_module("accounts.schema")  # the OpenAPI security schemes
        navigation.add(
            NavItem("Dashboard", "/", order=0),
            NavItem("Home", "/", roles=frozenset({navigation.TENANT_USER}), order=0),
            NavItem("People", "/people/", roles=ADMINS, order=10),
            NavItem("Groups", "/groups/", roles=ADMINS, order=12),
            NavItem("Policies", "/policies/", roles=ADMINS, order=14),
            NavItem("API keys", "/api-keys/", roles=ADMINS, order=80),
            NavItem("Audit log", "/audit/", roles=ADMINS, order=85),
            NavItem("Settings", "/settings/", roles=ADMINS, order=90),
            NavItem("Webhooks", "/webhooks/", roles=ADMINS, order=82),
        )
        members = TenantMembers()
        ports.register_members(members)
        ports.add_listener(members)
        ports.add_admin_panel(people_panel)
        ports.add_admin_panel(api_keys_panel)


ITEM_KINDS = (
    ItemKind("user", TENANT_DATA, TENANT, TENANT_PARTITION, "USER#", "a person of the tenant"),
    ItemKind(
        "user-email", TENANT_DATA, TENANT, TENANT_PARTITION, "UNIQ#EMAIL#", "a user's email, unique in the tenant"
    ),
    ItemKind("user-counts", TENANT_DATA, TENANT, TENANT_PARTITION, "COUNTER#USERS", "active users and admins"),
    ItemKind("api-key", CONTROL, TENANT, "APIKEY#", "APIKEY", "an integrator API key (its hash)"),
    ItemKind("group", TENANT_DATA, TENANT, TENANT_PARTITION, "GROUP#", "a cohort or class of users"),
    ItemKind("group-name", TENANT_DATA, TENANT, TENANT_PARTITION, "UNIQ#GROUPNAME#", "a group's name, unique"),
    ItemKind("group-member", TENANT_DATA, TENANT, TENANT_PARTITION, "MEMBER#", "a user in a group (by group)"),
    ItemKind("user-group", TENANT_DATA, TENANT, TENANT_PARTITION, "INGROUP#", "a user in a group (by user)"),
    ItemKind("policy", TENANT_DATA, TENANT, TENANT_PARTITION, "POLICY#", "what the tenant or a group allows"),
    ItemKind("user-import", TENANT_DATA, TENANT, TENANT_PARTITION, "IMPORT#", "a bulk import of users (a job)"),
    ItemKind(
        "user-import-report", TENANT_DATA, TENANT, TENANT_PARTITION, "IMPORTROW#", "one chunk of an import's report"
    ),
    # Integrations (accounts.integrations)
    ItemKind("webhook-endpoint", TENANT_DATA, TENANT, TENANT_PARTITION, "WHEP#", "a webhook endpoint and its secrets"),
    ItemKind("webhook-event", TENANT_DATA, TENANT, TENANT_PARTITION, "WHEVT#", "a recorded event (the outbox; TTL)"),
    ItemKind(
        "webhook-delivery", TENANT_DATA, TENANT, TENANT_PARTITION, "WHDEL#", "an event's delivery to an endpoint (TTL)"
    ),
    ItemKind("identity-provider", TENANT_DATA, TENANT, TENANT_PARTITION, "IDP#", "an OIDC/SAML provider (no secret)"),
)

# How the audit log reads accounts' actions ({detail} placeholders; see tenants.audit).
AUDIT_ACTIONS = {
    "user.invited": "Invited {email} as {role}",
    "user.joined": "Joined as a learner",
    "user.role_changed": "Changed a user's role from {from} to {to}",
    "user.enabled": "Enabled {email}",
    "user.disabled": "Disabled {email}",
    "user.renamed": "Renamed a user",
    "user.deleted": "Deleted {email}",
    "user.invitation_resent": "Sent {email} a new invitation",
    "users.import_started": "Started importing {rows} rows from {file}",
    "users.imported": "Imported {rows} rows: {created} created, {already_members} already members, {invalid} invalid",
    "users.import_failed": "An import stopped: {error}",
    "users.import_resumed": "Resumed an import from row {from_row}",
    "group.created": "Created the group {name}",
    "group.updated": "Changed a group ({fields})",
    "group.deleted": "Deleted the group {name}",
    "group.member_added": "Added a user to a group",
    "group.member_removed": "Removed a user from a group",
    "policy.set": "Changed a policy ({policy})",
    "api_key.created": "Created the API key {name} ({scope})",
    "api_key.revoked": "Revoked the API key {name}",
    "user.erased": "Erased a person's data (now {pseudonym})",
    "webhook.endpoint_created": "Added the webhook endpoint {url}",
    "webhook.endpoint_updated": "Changed a webhook endpoint ({fields})",
    "webhook.endpoint_deleted": "Deleted the webhook endpoint {url}",
    "webhook.endpoint_disabled": "A webhook endpoint was disabled: {reason}",
    "webhook.secret_rotated": "Rotated a webhook endpoint's secret",
    "webhook.redelivered": "Redelivered a webhook delivery",
    "sso.provider_created": "Connected the identity provider {display_name} ({provider_type})",
    "sso.provider_updated": "Changed an identity provider ({fields})",
    "sso.provider_deleted": "Disconnected the identity provider {display_name}",
    "sso.user_linked": "Linked {email} to a single sign-on identity",
    "sso.user_created": "{email} joined through single sign-on as {role}",
}
