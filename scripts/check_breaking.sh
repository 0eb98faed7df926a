#!/usr/bin/env bash
# buf breaking (FILE rules): the working tree's proto/ against the commit it builds on, so a change that breaks
# the wire or generated code fails the check on every branch and on main itself.
#   - BUF_AGAINST=<git ref>: compare against that (e.g. the last release tag);
#   - on a branch that left main: the merge base with main (everything the branch changed);
#   - otherwise (main itself, a detached CI checkout): the previous commit, HEAD~1 (for a merge: the first parent).
# A shallow clone without that commit gets one more commit fetched; when none can be found (a single-commit
# clone with no remote) the check says so and passes, since there is nothing older to break.
set -euo pipefail
cd "$(dirname "$0")/.."
buf=${1:-tools/buf/node_modules/.bin/buf}

has_proto() { git cat-file -e "$1:proto" 2>/dev/null; }

against=${BUF_AGAINST:-}
if [ -z "$against" ] && git rev-parse --verify -q main >/dev/null; then
  base=$(git merge-base HEAD main 2>/dev/null || true)
  if [ -n "$base" ] && [ "$base" != "$(git rev-parse HEAD)" ]; then
    against=$base
  fi
fi
if [ -z "$against" ]; then
  if ! git rev-parse --verify -q 'HEAD~1^{commit}' >/dev/null && [ "$(git rev-parse --is-shallow-repository)" = true ]; then
    git fetch -q --deepen=1 2>/dev/null || true
  fi
  if git rev-parse --verify -q 'HEAD~1^{commit}' >/dev/null; then
    against=$(git rev-parse 'HEAD~1')
  fi
fi

if [ -z "$against" ]; then
  echo "buf breaking: no earlier commit to compare with (single-commit or shallow clone); skipped"
  exit 0
fi
commit=$(git rev-parse "$against^{commit}")
if ! has_proto "$commit"; then
  echo "buf breaking: $against has no proto/ yet, nothing to compare"
  exit 0
fi
"$buf" breaking --against ".git#ref=$commit"
echo "buf breaking: no breaking change against $(git rev-parse --short "$commit")${BUF_AGAINST:+ ($BUF_AGAINST)}"
