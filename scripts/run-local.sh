#!/usr/bin/env bash
# `make run`: local AWS, bootstrap, demo data, then the app on 127.0.0.1:8000 (CLOUDKIDA_PORT).
# Ctrl-C stops the app and the emulator it started.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
STATE="${CLOUDKIDA_LOCAL_STATE_DIR:-.local}"
PORT="${CLOUDKIDA_PORT:-8000}"
export CLOUDKIDA_LOCAL_STATE_DIR="$STATE"
# Local data keyed by slug (before tenant ids were ULIDs) cannot be replayed into this version: keep it
# aside and start afresh. DATA_VERSION changes only when local data stops being replayable.
DATA_VERSION=2
if [ -f "$STATE/moto-recording.jsonl" ] && [ "$(cat "$STATE/data-version" 2>/dev/null)" != "$DATA_VERSION" ]; then
  rm -rf "$STATE.before-tenant-ids" && mv "$STATE" "$STATE.before-tenant-ids"
  echo "Local data from an earlier version moved to $STATE.before-tenant-ids; starting afresh."
fi
mkdir -p "$STATE"
echo "$DATA_VERSION" > "$STATE/data-version"
export CLOUDKIDA_ENV=local

"$PY" -m scripts.localaws --state-dir "$STATE" > "$STATE/localaws.log" 2>&1 &
AWS_PID=$!
# A local OIDC identity provider: the demo organisation's single sign-on (a new signing key every start).
# Port 9400 unless taken (then any free one; seed_demo points the demo provider at wherever it runs).
IDP_PORT="${CLOUDKIDA_IDP_PORT:-$("$PY" -c 'import socket
s = socket.socket()
try:
    s.bind(("127.0.0.1", 9400))
except OSError:
    s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')}"
"$PY" -m oidc_provider_mock --port "$IDP_PORT" \
  --user-claims '{"sub": "emp-100", "email": "sam@acme.example", "name": "Sam Single-Sign-On"}' \
  > "$STATE/oidc-provider.log" 2>&1 &
IDP_PID=$!
export CLOUDKIDA_DEMO_OIDC_ISSUER="http://localhost:$IDP_PORT"
cleanup() {
  trap - EXIT INT TERM
  [ -n "${APP_PID:-}" ] && kill "$APP_PID" 2>/dev/null || true
  kill "$IDP_PID" 2>/dev/null || true
  kill "$AWS_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  echo "Stopped CloudKida and local AWS."
}
trap cleanup EXIT INT TERM

# Wait for the emulator to finish replaying and announce its port (it writes localaws.json).
for _ in $(seq 1 600); do
  [ -f "$STATE/localaws.json" ] && break
  kill -0 "$AWS_PID" 2>/dev/null || { cat "$STATE/localaws.log"; exit 1; }
  sleep 0.2
done
[ -f "$STATE/localaws.json" ] || { echo "local AWS did not start"; cat "$STATE/localaws.log"; exit 1; }
grep localaws: "$STATE/localaws.log" || true

for _ in $(seq 1 100); do  # the identity provider answers its discovery document
  "$PY" -c 'import sys,urllib.request;urllib.request.urlopen(sys.argv[1],timeout=1)' \
    "$CLOUDKIDA_DEMO_OIDC_ISSUER/.well-known/openid-configuration" 2>/dev/null && break
  kill -0 "$IDP_PID" 2>/dev/null || { cat "$STATE/oidc-provider.log"; exit 1; }
  sleep 0.2
done

"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py bootstrap
"$PY" manage.py seed_demo
"$PY" manage.py seed_labs
"$PY" manage.py seed_billing

ADMIN_PASSWORD=$("$PY" -c 'import json,sys;print(json.load(open(sys.argv[1]))["password"])' "$STATE/demo-credentials.json")
cat <<MSG

CloudKida is running (Ctrl-C stops it and local AWS):
  Health            http://127.0.0.1:$PORT/healthz
  Django admin      http://admin.localhost:$PORT/admin/      user: admin   password: ${ADMIN_PASSWORD}
                    (or "Sign in with the CloudKida operations account" as ops@cloudkida.localhost, as production
                    does; its temporary password was printed above when it was first seeded)
  API root          http://127.0.0.1:$PORT/api/v1/
  API docs          http://127.0.0.1:$PORT/api/v1/docs/
  Sign up           http://localhost:$PORT/signup/
  Acme portal       http://acme.localhost:$PORT/        admin@acme.example (admin), dev@acme.example
  Single sign-on    on the Acme sign-in page "Continue with Acme SSO" → the local identity provider at
                    $CLOUDKIDA_DEMO_OIDC_ISSUER: choose sam@acme.example (joins Acme as a learner) or type any
                    subject; sign in there as dev@acme.example to see an invited user linked
  Learners portal   http://learners.localhost:$PORT/    learner@example.com
                    Sign-in goes through a local emulation of Cognito's hosted UI. Invitations (with the
                    temporary password) and password-reset codes are emails, printed in this terminal;
                    the demo users' invitations were printed above when they were first seeded.
  Labs              http://learners.localhost:$PORT/labs/ and http://acme.localhost:$PORT/labs/ (dev@acme.example)
  Local AWS         $(cat "$STATE/localaws.json")

MSG
if [ "${CLOUDKIDA_DEV_SERVER:-}" = "runserver" ]; then  # `make dev`: Django's server, reloading on edits
  "$PY" manage.py runserver 127.0.0.1:$PORT &
else  # `make run`: a production-grade WSGI server, sized for this machine
  WORKERS="${CLOUDKIDA_WEB_WORKERS:-$(( $(nproc) > 1 ? $(nproc) : 2 ))}"
  "$PY" -m gunicorn cloudkida.wsgi:application --bind "127.0.0.1:$PORT" --workers "$WORKERS" \
    --threads "${CLOUDKIDA_WEB_THREADS:-16}" --worker-class gthread --timeout 60 --graceful-timeout 5 \
    --max-requests 5000 --max-requests-jitter 500 --error-logfile - --log-level info &
fi
APP_PID=$!
wait "$APP_PID"
