#!/usr/bin/env bash
# Run the whole app with embedded defaults: SQLite, a filesystem Celery broker (no server),
# demo data, a worker with beat, and the web server on http://127.0.0.1:8000
source "$(dirname "$0")/scripts_common.sh"
PORT=${PORT:-8000}
export SITE_URL=${SITE_URL:-http://127.0.0.1:$PORT}  # links in e-mails point at this server
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo --if-empty
.venv/bin/python manage.py seed_datamap -v0  # the marketplace's data map (fulfilment), once
.venv/bin/python manage.py seed_shop  # the connectors demo: a SQLite shop (requests_app/connectors)
# Worker and server each run in a process group of their own (set -m), so stopping a group reaches
# beat, the pool and the autoreloader's child too, and Ctrl-C reaches this script alone.
set -m
.venv/bin/celery -A dsar worker --beat -Q celery,timers,mail --concurrency 2 --loglevel INFO \
  --schedule var/celerybeat-schedule >var/worker.log 2>&1 &
worker=$!
server=""
stop_group() {  # warm shutdown first; a group still there after 10 s (stuck filesystem broker) gets SIGKILL
  kill -TERM -- "-$1" 2>/dev/null || return 0
  for _ in $(seq 20); do kill -0 -- "-$1" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL -- "-$1" 2>/dev/null; true
}
stop_all() {
  trap - EXIT INT TERM HUP
  [ -n "$server" ] && stop_group "$server"
  stop_group "$worker"
}
# A signal ends the script (bash would otherwise resume it); the EXIT trap then stops both groups.
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
echo "Worker and beat running (log: var/worker.log)."
echo "Request form:  $SITE_URL/"
echo "Staff queue:   $SITE_URL/staff/   (manager / analyst / auditor, password: demo-pass-123)"
echo "New e-mails are printed in var/worker.log (the demo's historical ones are recorded as sent)."
.venv/bin/python manage.py runserver "127.0.0.1:$PORT" &
server=$!
wait "$server"
