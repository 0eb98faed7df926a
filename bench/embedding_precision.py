"""Where the embedding time goes and what lower precision costs: the study behind the int8 decision.

Run from the repo root with the build venv after `make models` (nothing else on the CPU; ~10 min):

    PYTHONPATH=. .venv-build/bin/python bench/embedding_precision.py [--docs 2000] [--out FILE]

1. An onnxruntime profile of the fp32 model on 64 resumes of 256 tokens: time per operator type, and the
   GFLOP/s of the MatMul and fused Attention kernels (against numpy's sgemm on the same cores as the ceiling).
2. Mixed-precision variants built from the fp32 model with MatMulNBits (8-bit, symmetric, block 128, int8
   compute), quantising every encoder MatMul ("all", the shipped int8 variant) or leaving one class in fp32:
   attention output (384x384), FFN in (384x1536), FFN out (1536x384). Each variant: cosine min/mean and
   recall@10 against fp32 on the bench corpus (seeded synthetic resumes, 200 queries x --docs documents,
   the same generator and seed as bench/embedding.py), and resume throughput at batch 64 relative to fp32,
   measured interleaved (3 rounds, median).
3. How close the corpus's rankings are: the gap between each query's 10th and 11th score under fp32, against
   the int8 variant's score error.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.embedding import query, recall_at_10, resume  # noqa: E402
from embedding_svc.model import MiniLM  # noqa: E402
from hiremesh_ops.build_embedding_model import INT8_BLOCK  # noqa: E402

FOLDER = REPO / ".hiremesh" / "models" / "all-MiniLM-L6-v2"
SHAPES = {(384, 384): "attn_out", (384, 1536): "ffn_in", (1536, 384): "ffn_out"}
VARIANTS = {
    "all": (),
    "fp32_ffn_out": ("ffn_out",),
    "fp32_attn_out": ("attn_out",),
    "fp32_ffn_in": ("ffn_in",),
    "only_ffn_in": ("ffn_out", "attn_out"),
}


def session(path: Path, profile_prefix: str = "") -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if profile_prefix:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def matmul_classes(model: onnx.ModelProto) -> dict[str, list[str]]:
    weights = {i.name: tuple(i.dims) for i in model.graph.initializer}
    classes: dict[str, list[str]] = collections.defaultdict(list)
    for node in model.graph.node:
        shape = next((weights[x] for x in node.input if x in weights), None) if node.op_type == "MatMul" else None
        if shape in SHAPES:
            classes[SHAPES[shape]].append(node.name)
    return classes


def build_variant(fp32: Path, keep_fp32: tuple[str, ...], out: Path) -> None:
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    model = onnx.load(str(fp32))
    classes = matmul_classes(model)
    quantizer = MatMulNBitsQuantizer(
        model,
        bits=8,
        block_size=INT8_BLOCK,
        is_symmetric=True,
        accuracy_level=4,
        nodes_to_exclude=[n for c in keep_fp32 for n in classes[c]],
    )
    quantizer.process()
    quantizer.model.save_model_to_file(str(out), use_external_data_format=False)


def op_profile(encoder: MiniLM, texts: list[str], workdir: Path) -> dict[str, Any]:
    encodings = encoder.tokenize(texts)
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(texts), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, enc in enumerate(encodings):
        ids[row, : len(enc.ids)] = enc.ids
        mask[row, : len(enc.ids)] = 1
    sess = session(FOLDER / "model.onnx", str(workdir / "profile"))
    feeds = {"input_ids": ids, "attention_mask": mask}
    if "token_type_ids" in {i.name for i in sess.get_inputs()}:
        feeds["token_type_ids"] = np.zeros_like(ids)
    runs = 3
    sess.run(None, feeds)
    for _ in range(runs):
        sess.run(None, feeds)
    events = json.loads(Path(sess.end_profiling()).read_text())
    per_op: collections.Counter[str] = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            per_op[event["args"]["op_name"]] += event["dur"]
    total = sum(per_op.values())
    ms = {op: us / (runs + 1) / 1000 for op, us in per_op.most_common()}
    tokens, hidden, layers = len(texts) * width, 384, 6
    matmul_gflop = layers * tokens * (hidden * hidden + 2 * hidden * 4 * hidden) * 2 / 1e9
    attention_gflop = layers * (tokens * hidden * 3 * hidden + 2 * len(texts) * width * width * hidden) * 2 / 1e9
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    a @ a
    started = time.perf_counter()
    for _ in range(5):
        a @ a
    sgemm = 5 * 2 * 2048**3 / (time.perf_counter() - started) / 1e9
    return {
        "batch": len(texts),
        "tokens_per_text": width,
        "ms_per_run_by_op": ms,
        "share_by_op": {op: us / total for op, us in per_op.items()},
        "matmul_gflop_per_s": matmul_gflop / (ms["MatMul"] / 1000),
        "attention_gflop_per_s": attention_gflop / (ms["Attention"] / 1000),
        "numpy_sgemm_gflop_per_s": sgemm,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rng = random.Random(7)
    docs = [resume(rng, rng.randint(15, 400)) for _ in range(args.docs)]
    queries = [query(rng) for _ in range(200)]
    resumes = [resume(rng, 300) for _ in range(128)]
    encoder = MiniLM(FOLDER, threads=2)
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="embedding-precision-") as tmp:
        work = Path(tmp)
        report["fp32_profile"] = op_profile(encoder, resumes[:64], work)
        print(json.dumps(report["fp32_profile"], indent=1), flush=True)
        sessions = {"fp32": encoder.session}
        for name, keep in VARIANTS.items():
            build_variant(FOLDER / "model.onnx", keep, work / f"{name}.onnx")
            sessions[name] = session(work / f"{name}.onnx")
        vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for name, sess in sessions.items():
            encoder.session = sess
            vectors[name] = (
                np.stack([e.vector for e in encoder.embed(docs)]),
                np.stack([e.vector for e in encoder.embed(queries)]),
            )
        speed: dict[str, list[float]] = {name: [] for name in sessions}
        for _ in range(3):
            for name, sess in sessions.items():
                encoder.session = sess
                encoder.embed(resumes[:64])
                started = time.perf_counter()
                encoder.embed(resumes[:64])
                encoder.embed(resumes[64:])
                speed[name].append(len(resumes) / (time.perf_counter() - started))
    docs32, queries32 = vectors["fp32"]
    variants: dict[str, Any] = {}
    for name in sessions:
        d, q = vectors[name]
        cosine = np.concatenate([(docs32 * d).sum(axis=1), (queries32 * q).sum(axis=1)])
        variants[name] = {
            "kept_fp32": list(VARIANTS.get(name, ())),
            "cosine_min": float(cosine.min()),
            "cosine_mean": float(cosine.mean()),
            "recall_at_10_vs_fp32": recall_at_10(queries32, docs32, q, d),
            "resume_texts_per_s": float(np.median(speed[name])),
            "speedup_vs_fp32": float(np.median(speed[name]) / np.median(speed["fp32"])),
        }
        print(name, {k: round(v, 5) if isinstance(v, float) else v for k, v in variants[name].items()}, flush=True)
    report["variants"] = variants
    scores32 = queries32 @ docs32.T
    top = -np.sort(-scores32, axis=1)
    gap = top[:, 9] - top[:, 10]
    error = np.abs(scores32 - vectors["all"][1] @ vectors["all"][0].T)
    report["ranking_margins"] = {
        "gap_10th_11th_p10_p50_p90": [float(x) for x in np.percentile(gap, [10, 50, 90])],
        "int8_score_error_p50_p90_max": [float(np.median(error)), float(np.percentile(error, 90)), float(error.max())],
        "top1_minus_top10_p50": float(np.median(top[:, 0] - top[:, 9])),
    }
    print(json.dumps(report["ranking_margins"], indent=1))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
