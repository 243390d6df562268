#!/usr/bin/env python
"""Local OIDC provider for `make run` (development only): oidc-provider-mock on loopback.

Every tenant's browser login goes here instead of Cognito's hosted UI, which local AWS emulation lacks.
The demo users carry the same claims Cognito would put in their ID tokens. Writes
``<state dir>/localoidc.json`` with the issuer once serving; SIGINT/SIGTERM stop it and remove the file.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

DEMO_USERS = [
    ("admin@acme.example", "Ada Admin", "acme", "TenantAdmin"),
    ("dev@acme.example", "Dev Eloper", "acme", "TenantUser"),
    ("learner@example.com", "Lee Learner", "learners", "TenantUser"),
    ("learners-admin@cloudkida.localhost", "Learners Admin", "learners", "TenantAdmin"),
]
# System admins sign in to the Django admin through the operations pool; locally through this provider.
DEMO_OPERATORS = [("ops@cloudkida.localhost", "Olga Ops")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", default=os.environ.get("CLOUDKIDA_LOCAL_STATE_DIR", ".local"))
    args = parser.parse_args()
    from oidc_provider_mock import User, run_server_in_thread

    users = [
        User(sub=email, claims={"email": email, "name": name, "custom:tenantId": tenant, "custom:userRole": role})
        for email, name, tenant, role in DEMO_USERS
    ] + [User(sub=email, claims={"email": email, "name": name}) for email, name in DEMO_OPERATORS]
    state = Path(args.state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    marker = state / "localoidc.json"
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with run_server_in_thread(port=0, user_claims=users) as server:
        issuer = f"http://localhost:{server.server_port}"
        marker.write_text(json.dumps({"issuer": issuer}))
        print(f"localoidc: OIDC provider ready at {issuer}", flush=True)
        while not stop.wait(0.5):  # a timed wait, so a signal caught by another thread still wakes us
            pass
    marker.unlink(missing_ok=True)
    print("localoidc: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
