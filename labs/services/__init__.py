"""Writes and use cases of labs, one module per concern, re-exported here."""

from labs.services.catalog import (
    assignment_add,
    assignment_remove,
    lab_create,
    lab_enable,
    lab_publish,
    lab_retire,
    lab_update,
)
from labs.services.pool import (
    account_eject,
    account_get,
    account_lease,
    account_quarantine,
    account_retry_cleanup,
    cleanup_retry_due,
    drift_check,
    pool_replenish,
    pool_targets_set,
    shard_register,
)
from labs.services.sessions import (
    lab_session_access,
    lab_session_check,
    lab_session_end,
    lab_session_extend,
    lab_session_start,
    sessions_expire,
    spend_check,
)

__all__ = [
    "account_eject",
    "account_get",
    "account_lease",
    "account_quarantine",
    "account_retry_cleanup",
    "assignment_add",
    "assignment_remove",
    "cleanup_retry_due",
    "drift_check",
    "lab_create",
    "lab_enable",
    "lab_publish",
    "lab_retire",
    "lab_session_access",
    "lab_session_check",
    "lab_session_end",
    "lab_session_extend",
    "lab_session_start",
    "lab_update",
    "pool_replenish",
    "pool_targets_set",
    "sessions_expire",
    "shard_register",
    "spend_check",
]
