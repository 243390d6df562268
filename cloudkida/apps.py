from django.apps import AppConfig

from cloudkida.dynamo.registry import CONTROL, PLATFORM, TENANT, TENANT_PARTITION, ItemKind, register


class CloudkidaConfig(AppConfig):
    name = "cloudkida"
    verbose_name = "CloudKida core"

    def ready(self):
        from cloudkida import email, observability, resources

        for kind in ITEM_KINDS:
            register(kind)
        resources.register_schedule(email.SCHEDULE)
        observability.trace_aws_calls()


ITEM_KINDS = (
    ItemKind("platform-resources", CONTROL, PLATFORM, "PLATFORM", "RESOURCES", "ids bootstrap recorded"),
    ItemKind("rate-window", CONTROL, PLATFORM, "RATE#", "", "a fixed-window rate-limit counter (TTL)"),
    ItemKind("idempotency-anonymous", CONTROL, PLATFORM, "IDEMP#", "", "a replayable response to an anonymous POST"),
    ItemKind("idempotency", CONTROL, TENANT, TENANT_PARTITION, "IDEMP#", "a replayable response to a tenant's POST"),
    ItemKind("email-outbox", CONTROL, TENANT, TENANT_PARTITION, "OUTBOX#", "an email SES refused, to be retried"),
)
