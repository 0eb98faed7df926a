"""Where the built model lives and how its manifest is checked (shared by the build step and the runtime).

Kept free of onnxruntime, torch and grpc so `python -m hiremesh_ops.build_embedding_model --check` runs from either
venv.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
MAX_TOKENS = 256
MODEL_FILE = "model.onnx"
# 8-bit weights in blocks of 128 with int8 arithmetic on activations quantised per row and block (onnxruntime's
# MatMulNBits, accuracy level 4): vectors stay within cosine 0.9995 of fp32 and, unlike per-tensor dynamic
# int8, do not depend on the other texts in the batch.
INT8_FILE = "model-int8.onnx"
VARIANT_FILES = {"fp32": MODEL_FILE, "int8": INT8_FILE}
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
# Bump when the export recipe changes so existing builds are redone.
RECIPE_VERSION = 2


def model_path(models_dir: Path) -> Path:
    """The folder holding one built model: `<models_dir>/all-MiniLM-L6-v2`."""
    return models_dir / MODEL_NAME


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What `build_model` wrote: file checksums, the source weights' checksum and the tool versions."""

    name: str
    variant: str
    dimension: int
    max_tokens: int
    files: dict[str, str]  # file name -> sha256
    source_sha256: str
    recipe: int
    versions: dict[str, str]

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        data: dict[str, Any] = json.loads((folder / MANIFEST_FILE).read_text())
        return cls(
            name=str(data["name"]),
            variant=str(data["variant"]),
            dimension=int(data["dimension"]),
            max_tokens=int(data["max_tokens"]),
            files={str(k): str(v) for k, v in data["files"].items()},
            source_sha256=str(data["source_sha256"]),
            recipe=int(data["recipe"]),
            versions={str(k): str(v) for k, v in data.get("versions", {}).items()},
        )

    def write(self, folder: Path) -> None:
        payload = {
            "name": self.name,
            "variant": self.variant,
            "dimension": self.dimension,
            "max_tokens": self.max_tokens,
            "files": self.files,
            "source_sha256": self.source_sha256,
            "recipe": self.recipe,
            "versions": self.versions,
        }
        (folder / MANIFEST_FILE).write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")


def verify(folder: Path) -> Manifest:
    """Read the manifest and check every listed file's sha256; ValueError says what is wrong."""
    if not (folder / MANIFEST_FILE).is_file():
        raise ValueError(f"no {MANIFEST_FILE} in {folder} (build the model: `make models`)")
    manifest = Manifest.read(folder)
    for name in (MODEL_FILE, TOKENIZER_FILE):
        if name not in manifest.files:
            raise ValueError(f"{MANIFEST_FILE} in {folder} lists no checksum for {name}")
    for name, expected in manifest.files.items():
        path = folder / name
        if not path.is_file():
            raise ValueError(f"{path} is missing (rebuild the model: `make models`)")
        actual = sha256_file(path)
        if actual != expected:
            raise ValueError(
                f"{path} has sha256 {actual[:12]}…, manifest says {expected[:12]}… "
                "(corrupt or tampered; rebuild with `make models`)"
            )
    return manifest
