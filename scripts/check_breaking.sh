#!/usr/bin/env bash
# buf breaking (FILE rules) against the proto/ of branch main, when main has one to compare with.
set -euo pipefail
cd "$(dirname "$0")/.."
buf=${1:-tools/buf/node_modules/.bin/buf}
if git rev-parse --verify -q main >/dev/null && git cat-file -e main:proto 2>/dev/null; then
  "$buf" breaking --against '.git#branch=main'
  echo "buf breaking: no breaking change against main"
else
  echo "buf breaking: main has no proto/ yet, nothing to compare"
fi
