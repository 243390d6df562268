from django.apps import AppConfig

from cloudkida.dynamo.registry import CONTROL, PLATFORM, TENANT, TENANT_DATA, TENANT_PARTITION, ItemKind, register


class LabsConfig(AppConfig):
    name = "labs"

    def ready(self):
        from django.contrib import admin

        from accounts.integrations import webhooks
        from cloudkida import events, navigation, resources, workflows
        from cloudkida.admin import Section
        from cloudkida.navigation import ADMINS, EVERYONE, NavItem, Summary
        from labs import events as lab_events
        from labs.admin import labs_admin_urls
        from labs.jobs import SCHEDULES
        from labs.services import pool, sessions
        from tenants import ports

        for kind in ITEM_KINDS:
            register(kind)
        resources.register_permissions("labs.permissions.statements")
        events.declare(*lab_events.TYPES)
        webhooks.add_consumer("task.checked", _grade_task_checked)
        resources.register_template_resources("labs.infrastructure.resources")
        navigation.add(
            NavItem("Labs", "/labs/", roles=EVERYONE, order=20),
            NavItem("Live sessions", "/labs/live/", roles=ADMINS, order=25),
        )
        navigation.add_summary(Summary("Running labs", "/labs/live/", "labs.summaries.running", order=30))
        workflows.register(sessions.PROVISIONING, record_failure=sessions.provisioning_record_failure)
        workflows.register(sessions.ENDING, record_failure=sessions.ending_record_failure)
        workflows.register(pool.CLEANUP, record_failure=pool.cleanup_record_failure)
        workflows.register(pool.HOT_POOL, record_failure=pool.hot_record_failure)
        pool.set_session_finisher(sessions.session_finish)
        for schedule in SCHEDULES:
            resources.register_schedule(schedule)
        ports.add_listener(sessions.LabsTenantListener())
        admin.site.add_section(
            Section(
                "labs",
                "Labs",
                labs_admin_urls,
                (
                    ("Pool dashboard", "labs_pool"),
                    ("Lab accounts", "labs_accounts"),
                    ("Global labs", "labs_global_labs"),
                ),
            )
        )


ITEM_KINDS = (
    # The catalog
    ItemKind("lab", TENANT_DATA, TENANT, TENANT_PARTITION, "LAB#", "a tenant's private lab definition"),
    ItemKind("lab-slug", TENANT_DATA, TENANT, TENANT_PARTITION, "UNIQ#LABSLUG#", "a tenant lab's slug, unique"),
    ItemKind("lab-enabled", TENANT_DATA, TENANT, TENANT_PARTITION, "LABON#", "a global lab the tenant offers"),
    ItemKind("lab-assignment", TENANT_DATA, TENANT, TENANT_PARTITION, "ASSIGN#", "a lab assigned (by lab)"),
    ItemKind("lab-assignee", TENANT_DATA, TENANT, TENANT_PARTITION, "ASSIGNEE#", "a lab assigned (by user or group)"),
    ItemKind("lab-progress", TENANT_DATA, TENANT, TENANT_PARTITION, "PROGRESS#", "a learner's passed tasks of a lab"),
    ItemKind("global-lab", CONTROL, PLATFORM, "LABS#GLOBAL", "LAB#", "CloudKida's own lab definitions"),
    ItemKind("global-lab-slug", CONTROL, PLATFORM, "UNIQ#LABSLUG#", "UNIQ", "a global lab's slug, unique"),
    # Sessions
    # LTI 1.3 (labs.lti)
    ItemKind("lti-platform", CONTROL, TENANT, "LTIPLAT#", "LTIPLAT", "a tenant's learning platform (LTI 1.3)"),
    ItemKind("lti-link", TENANT_DATA, TENANT, TENANT_PARTITION, "LTILINK#", "where a learner's lab grade goes"),
    ItemKind("lti-state", CONTROL, PLATFORM, "LTISTATE#", "LTISTATE", "an LTI login's state or nonce (TTL)"),
    ItemKind("lti-grade-retry", CONTROL, TENANT, "LTIGRADE#PENDING", "", "a score a platform did not take yet"),
    ItemKind("lab-session", TENANT_DATA, TENANT, TENANT_PARTITION, "SESSION#", "a learner's lab session"),
    ItemKind("lab-step", TENANT_DATA, TENANT, TENANT_PARTITION, "LABSTEP#", "a session workflow step's outcome"),
    ItemKind("lab-active", TENANT_DATA, TENANT, TENANT_PARTITION, "LABACTIVE#", "a learner's running sessions"),
    ItemKind("lab-month", TENANT_DATA, TENANT, TENANT_PARTITION, "LABMONTH#", "a learner's lab minutes this month"),
    ItemKind("lab-start-lock", TENANT_DATA, TENANT, TENANT_PARTITION, "LABLOCK#", "a session starting (user, lab)"),
    # The account pool
    ItemKind("pool-account", CONTROL, PLATFORM, "ACCOUNT#", "ACCOUNT", "an AWS account of the lab pool"),
    ItemKind("pool-account-step", CONTROL, PLATFORM, "ACCOUNT#", "STEP#", "a cleanup or hot-pool step's outcome"),
    ItemKind("pool-account-request", CONTROL, PLATFORM, "ACCOUNTREQ#", "ACCOUNTREQ", "a CreateAccount in flight"),
    ItemKind("pool-shard", CONTROL, PLATFORM, "POOL#SHARDS", "", "an organization of the pool"),
    ItemKind("pool-targets", CONTROL, PLATFORM, "POOL#CONFIG", "TARGETS", "minimum available, maximum size per region"),
    ItemKind("pool-stats", CONTROL, PLATFORM, "POOL#STATS", "", "leases and failures per hour; the latest snapshot"),
    ItemKind("lab-scp", CONTROL, PLATFORM, "POOL#LABSCP#", "", "a lab guardrail SCP's id in an organization"),
)


def _grade_task_checked(tenant_id: str, data: dict) -> None:
    from labs.lti.services import grade_task_checked  # lazy: cold start (pylti1p3 only when a grade goes back)

    grade_task_checked(tenant_id, data)
