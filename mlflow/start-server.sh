#!/usr/bin/env bash
# Start the MLflow tracking server for the UI: SQLite backend store and artifacts under mlflow/.
# The DAGs and the CLI write to the same store directly (MLFLOW_TRACKING_URI defaults to it), so the UI
# shows every run. Usage: bash mlflow/start-server.sh [port]   (default 5000, bound to 127.0.0.1)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$("$HERE/../scripts/ensure-venv.sh")"
PORT="${1:-${MLFLOW_PORT:-5000}}"
mkdir -p "$HERE/artifacts"
exec "$VENV/bin/mlflow" server \
  --backend-store-uri "sqlite:///$HERE/mlflow.db" \
  --default-artifact-root "file://$HERE/artifacts" \
  --host 127.0.0.1 --port "$PORT"
