"""Periodic jobs: the one list of what runs on a schedule, registered by the apps that own the jobs.

Each job is a plain function ``job(event=None, context=None)`` (what Zappa's scheduled events call) and a
management command for running it by hand. ``zappa_settings.json``'s ``events`` must list exactly the
registered schedules (a test compares them), and infrastructure code reads ``all_registered()`` too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    name: str  # also the management command that runs the job once
    function: str  # dotted path Zappa calls with (event, context)
    expression: str  # an EventBridge schedule expression: "rate(5 minutes)", "cron(...)"
    description: str = ""

    def zappa_event(self) -> dict[str, str]:
        return {"name": self.name, "function": self.function, "expression": self.expression}


_registry: dict[str, Schedule] = {}


def register(schedule: Schedule) -> None:
    existing = _registry.get(schedule.name)
    if existing is not None and existing != schedule:
        raise ValueError(f"schedule {schedule.name!r} is already registered differently")
    _registry[schedule.name] = schedule


def all_registered() -> list[Schedule]:
    return [_registry[name] for name in sorted(_registry)]
