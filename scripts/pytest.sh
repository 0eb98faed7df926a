#!/usr/bin/env bash
# Run pytest from the venv. A run that collects no tests fails (pytest's exit code 5 passes through): a marker
# or path that selects nothing is a broken check, not a green one.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-artifacts
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
