#!/usr/bin/env bash
# The main job: the weekly plan refresh on the embedded demo sample.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$("$ROOT/scripts/ensure-venv.sh")"
cd "$ROOT"
exec "$VENV/bin/co2plan" weekly "$@"
