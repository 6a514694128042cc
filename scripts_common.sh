# Shared by run.sh and test.sh: create .venv and install requirements.txt when it changed.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
scripts/system-deps.sh ${SYSTEM_DEPS_FOR:-}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi
mkdir -p var/static
.venv/bin/python manage.py compile_translations >/dev/null
