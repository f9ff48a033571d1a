#!/usr/bin/env bash
# The web app: public, supplier and enterprise views on http://127.0.0.1:8000 (loopback only).
# The first start on an empty database prints the one-time password of the user 'admin'.
# Options: bash scripts/web.sh --help  (port, database URL, scenario runner, workers)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$("$ROOT/scripts/ensure-venv.sh")"
cd "$ROOT"
if [ "${1:-}" = "--help" ]; then exec "$VENV/bin/co2plan" web serve --help; fi
exec "$VENV/bin/co2plan" web serve --host 127.0.0.1 --port "${CO2PLAN_WEB_PORT:-8000}" \
  --runner "${CO2PLAN_WEB_SCENARIO_RUNNER:-local}" "$@"
