#!/usr/bin/env bash
# Run the whole test suite. Uses DATABASE_URL / REDIS_URL when set (CI: PostgreSQL and Redis),
# SQLite otherwise. Extra arguments go to pytest.
SYSTEM_DEPS_FOR=--tests source "$(dirname "$0")/scripts_common.sh"
exec .venv/bin/python -m pytest "$@"
