from django.apps import AppConfig

from cloudkida.dynamo.registry import CONTROL, PLATFORM, TENANT, TENANT_PARTITION, ItemKind, register


class CloudkidaConfig(AppConfig):
    name = "cloudkida"
    verbose_name = "CloudKida core"

    def ready(self):
        for kind in ITEM_KINDS:
            register(kind)


ITEM_KINDS = (
    ItemKind("platform-resources", CONTROL, PLATFORM, "PLATFORM", "RESOURCES", "ids bootstrap recorded"),
    ItemKind("rate-window", CONTROL, PLATFORM, "RATE#", "", "a fixed-window rate-limit counter (TTL)"),
    ItemKind("idempotency-anonymous", CONTROL, PLATFORM, "IDEMP#", "", "a replayable response to an anonymous POST"),
    ItemKind("idempotency", CONTROL, TENANT, TENANT_PARTITION, "IDEMP#", "a replayable response to a tenant's POST"),
)
