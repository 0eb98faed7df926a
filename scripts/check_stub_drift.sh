#!/usr/bin/env bash
# Fail when the committed stubs in hiremesh/v1 differ from what proto/ generates.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash scripts/gen_proto.sh "$tmp/v1"
if ! diff -r -q -x __pycache__ "$tmp/v1" hiremesh/v1; then
  echo "generated stubs are out of date: run 'make proto' and commit hiremesh/v1" >&2
  exit 1
fi
echo "stubs: up to date"
