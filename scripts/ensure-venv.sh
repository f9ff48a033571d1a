#!/usr/bin/env bash
# Create or reuse the project's virtual environment (.venv) and install co2plan into it.
# Finds a Python >= 3.12 on the machine (PATH, then pyenv's versions, then uv-managed ones) and
# says clearly when there is none. Re-installs only when pyproject.toml changed since last time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${CO2PLAN_VENV:-$ROOT/.venv}"
STAMP="$VENV/.co2plan-installed"

ok_python() {  # prints the interpreter if it runs and is >= 3.12
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1 && echo "$1"
}

find_python() {
  local c
  if [ -n "${CO2PLAN_PYTHON:-}" ]; then ok_python "$CO2PLAN_PYTHON" && return 0; fi
  for c in python3.12 python3.13 python3.14 python3; do
    if command -v "$c" >/dev/null 2>&1; then ok_python "$(command -v "$c")" && return 0; fi
  done
  # pyenv shims refuse versions that are installed but not selected; look at the versions directly
  local roots=("${PYENV_ROOT:-}" "$HOME/.pyenv" /root/.pyenv /opt/pyenv)
  for r in "${roots[@]}"; do
    [ -n "$r" ] && [ -d "$r/versions" ] || continue
    # 3.12 first: the version Airflow 3 + the forecasting stack are known to run on here
    for c in $(ls -d "$r"/versions/3.12*/bin/python3 "$r"/versions/3.1[3-9]*/bin/python3 2>/dev/null); do
      ok_python "$c" && return 0
    done
  done
  for c in /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
    [ -x "$c" ] && ok_python "$c" && return 0
  done
  return 1
}

if [ ! -x "$VENV/bin/python" ] || ! ok_python "$VENV/bin/python" >/dev/null; then
  PY="$(find_python)" || {
    echo "co2plan needs Python >= 3.12 (PuLP 4 requires it) and found none." >&2
    echo "Looked for python3.13/python3.12/python3 on PATH and under pyenv's versions." >&2
    echo "Install one (e.g. 'pyenv install 3.12' or your OS package) or set CO2PLAN_PYTHON=/path/to/python3.12." >&2
    exit 1
  }
  echo "[co2plan] creating $VENV with $PY ($("$PY" --version 2>&1))" >&2
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi

want="$( (cat "$ROOT/pyproject.toml"; echo "${CO2PLAN_EXTRAS:-dev}") | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
  echo "[co2plan] installing co2plan[${CO2PLAN_EXTRAS:-dev}] into $VENV (first run takes a minute or two)" >&2
  if [ ! -x "$VENV/bin/uv" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade uv >&2 || true
  fi
  if [ -x "$VENV/bin/uv" ]; then
    "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" -e "$ROOT[${CO2PLAN_EXTRAS:-dev}]" >&2
  else
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[${CO2PLAN_EXTRAS:-dev}]" >&2
  fi
  echo "$want" > "$STAMP"
fi
echo "$VENV"
