#!/usr/bin/env bash
# Run the whole app with embedded defaults: SQLite, a filesystem Celery broker (no server),
# demo data, a worker with beat, and the web server on http://127.0.0.1:8000
source "$(dirname "$0")/scripts_common.sh"
PORT=${PORT:-8000}
.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py seed_demo --if-empty
.venv/bin/python manage.py seed_datamap -v0  # the marketplace's data map (fulfilment), once
.venv/bin/python manage.py seed_shop  # the connectors demo: a SQLite shop (requests_app/connectors)
.venv/bin/celery -A dsar worker --beat -Q celery,timers --concurrency 2 --loglevel INFO \
  --schedule var/celerybeat-schedule >var/worker.log 2>&1 &
worker=$!
stop_worker() {  # warm shutdown first; a worker stuck on the filesystem broker gets SIGKILL after 10 s
  kill "$worker" 2>/dev/null || return 0
  for _ in $(seq 20); do kill -0 "$worker" 2>/dev/null || return 0; sleep 0.5; done
  pkill -KILL -P "$worker" 2>/dev/null; kill -KILL "$worker" 2>/dev/null; true
}
trap stop_worker EXIT INT TERM
echo "Worker and beat running (log: var/worker.log)."
echo "Request form:  http://127.0.0.1:$PORT/"
echo "Staff queue:   http://127.0.0.1:$PORT/staff/   (manager / analyst / auditor, password: demo-pass-123)"
echo "New e-mails are printed in var/worker.log (the demo's historical ones are recorded as sent)."
.venv/bin/python manage.py runserver "127.0.0.1:$PORT"
