"""`make bench`: operation counts and ratios, printed as a table and written as JSON.

Counts of AWS requests do not depend on how busy the machine is, so they are what we compare;
wall time is printed for information only and never asserted.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("CLOUDKIDA_ENV", "test")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudkida.settings")
for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ.setdefault(_name, "bench")

import django  # noqa: E402

django.setup()

from benchmarks import billing, deploy, identity, integrations, labs, load, onboarding, portal, repository  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SUITES = {
    "repository": repository,
    "onboarding": onboarding,
    "identity": identity,
    "portal": portal,
    "labs": labs,
    "integrations": integrations,
    "billing": billing,
    "deploy": deploy,
    "load": load,
}


def main(argv: list[str]) -> int:
    chosen = argv or list(SUITES)
    failed = False
    for name in chosen:
        result = SUITES[name].run()
        print(result["table"])
        print(result["verdict"])
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"{name}.json"
        path.write_text(json.dumps({k: v for k, v in result.items() if k != "table"}, indent=2))
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}\n")
        failed |= not result["ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
