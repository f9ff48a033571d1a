#!/usr/bin/env bash
# The test command: creates or reuses .venv, installs what is needed, lints, runs the suite.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$("$ROOT/scripts/ensure-venv.sh")"
cd "$ROOT"
"$VENV/bin/ruff" check .
# the one-way layers (contracts in pyproject.toml [tool.importlinter]); fails naming the import chain
"$VENV/bin/lint-imports" --no-cache
exec "$VENV/bin/python" -m pytest "$@"
