#!/usr/bin/env bash
# Generate Python stubs + mypy .pyi from proto/ into OUT (default hiremesh/v1).
set -euo pipefail
cd "$(dirname "$0")/.."
out_root=${1:-hiremesh/v1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PATH="$PWD/.venv/bin:$PATH" .venv/bin/python -m grpc_tools.protoc -I proto \
  --python_out="$tmp" --grpc_python_out="$tmp" --mypy_out=quiet:"$tmp" --mypy_grpc_out=quiet:"$tmp" \
  proto/hiremesh/v1/*.proto
mkdir -p "$out_root"
cp "$tmp"/hiremesh/v1/* "$out_root"/
touch "$out_root/__init__.py"
