"""Workflows: the idempotent step runner and the registry of the workflows apps define.

Apps register their workflows (``AppConfig.ready``) with the function that records a failure, so the
Lambda entry point and the Step Functions definitions can find them without importing any app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cloudkida.workflows.runner import FAILURE_STEP, Workflow


@dataclass(frozen=True)
class Registered:
    workflow: Workflow
    record_failure: Callable[[str, str, str], None]  # (subject id, step name, reason)


_registry: dict[str, Registered] = {}


def register(workflow: Workflow, *, record_failure: Callable[[str, str, str], None]) -> None:
    _registry[workflow.name] = Registered(workflow, record_failure)


def registered(name: str) -> Registered:
    """The registered workflow ``name``; KeyError if no app registered it."""
    return _registry[name]


def all_registered() -> dict[str, Registered]:
    return dict(sorted(_registry.items()))


__all__ = ["FAILURE_STEP", "Registered", "Workflow", "all_registered", "register", "registered"]
