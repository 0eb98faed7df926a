"""The onnxruntime model against sentence-transformers' vectors, and its checksum guard."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedding_svc.artifacts import INT8_FILE, MANIFEST_FILE, MODEL_FILE, TOKENIZER_FILE, model_path
from embedding_svc.model import MiniLM, length_buckets, mean_pool
from hiremesh.errors import FailedPrecondition


def test_vectors_match_sentence_transformers_reference(minilm: MiniLM, reference: dict[str, Any]) -> None:
    texts = [item["text"] for item in reference["items"]]
    results = minilm.embed(texts)
    for item, result in zip(reference["items"], results, strict=True):
        cosine = float(np.dot(np.asarray(item["vector"], dtype=np.float32), result.vector))
        # fp32 O3 export: measured 0.999999; anything under 0.999 means a broken export or tokenizer setting.
        assert cosine >= 0.999, (item["text"][:40], cosine)
        assert result.vector.shape == (384,)
        assert abs(float(np.linalg.norm(result.vector)) - 1.0) < 1e-4


def test_long_text_is_truncated_at_256_tokens_not_128(minilm: MiniLM) -> None:
    long_text = "distributed systems engineer " * 200
    (result,) = minilm.embed([long_text])
    assert result.token_count == 256
    assert result.truncated
    (short,) = minilm.embed(["distributed systems engineer"])
    assert not short.truncated
    assert short.token_count == 5  # [CLS] distributed systems engineer [SEP]


def test_vector_does_not_depend_on_batch_neighbours(minilm: MiniLM) -> None:
    text = "Backend engineer with Go and PostgreSQL experience"
    alone = minilm.embed([text])[0].vector
    noisy = minilm.embed(["x", "a very long neighbour " * 100, text, "y z"])[2].vector
    assert float(np.dot(alone, noisy)) > 0.99999


def test_similar_texts_score_higher_than_unrelated(minilm: MiniLM) -> None:
    query, similar, unrelated = minilm.embed(
        [
            "Experienced Python backend developer",
            "Software engineer writing Python web services",
            "Recipe for a chocolate cake with strawberries",
        ]
    )
    assert float(np.dot(query.vector, similar.vector)) > float(np.dot(query.vector, unrelated.vector)) + 0.2


def test_graph_pooling_equals_mean_pooling_of_token_vectors(minilm: MiniLM) -> None:
    encodings = minilm.tokenize(["short", "a somewhat longer sentence to pad against"])
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((2, width), dtype=np.int64)
    mask = np.zeros((2, width), dtype=np.int64)
    for row, enc in enumerate(encodings):
        ids[row, : len(enc.ids)] = enc.ids
        mask[row, : len(enc.ids)] = 1
    outputs = [o.name for o in minilm.session.get_outputs()]
    token_name = next(n for n in ("token_embeddings", "last_hidden_state") if n in outputs)
    (hidden,) = minilm.session.run([token_name], {"input_ids": ids, "attention_mask": mask})
    pooled = mean_pool(np.asarray(hidden, dtype=np.float32), mask)
    served = np.stack([r.vector for r in minilm.embed(["short", "a somewhat longer sentence to pad against"])])
    assert np.allclose((pooled * served).sum(axis=1), 1.0, atol=1e-5)


@given(
    st.lists(st.integers(min_value=1, max_value=256), max_size=300),
    st.integers(min_value=256, max_value=20_000),
    st.integers(min_value=1, max_value=128),
)
def test_length_buckets_cover_every_text_once_within_budget(lengths: list[int], budget: int, rows: int) -> None:
    groups = length_buckets(lengths, budget, rows)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    for group in groups:
        assert len(group) <= rows
        assert len(group) == 1 or len(group) * max(lengths[i] for i in group) <= budget
    flattened = [lengths[i] for g in groups for i in g]
    assert flattened == sorted(flattened)


def _copy_model(embedding_models: Path, tmp_path: Path) -> Path:
    source = model_path(embedding_models)
    target = tmp_path / "all-MiniLM-L6-v2"
    target.mkdir()
    (target / MODEL_FILE).symlink_to(source / MODEL_FILE)
    (target / INT8_FILE).symlink_to(source / INT8_FILE)
    shutil.copy2(source / TOKENIZER_FILE, target / TOKENIZER_FILE)
    shutil.copy2(source / MANIFEST_FILE, target / MANIFEST_FILE)
    return target


def test_tampered_tokenizer_is_refused(embedding_models: Path, tmp_path: Path) -> None:
    target = _copy_model(embedding_models, tmp_path)
    with (target / TOKENIZER_FILE).open("a") as handle:
        handle.write(" ")
    with pytest.raises(FailedPrecondition, match="sha256"):
        MiniLM(target, threads=1)


def test_model_file_not_matching_manifest_is_refused(embedding_models: Path, tmp_path: Path) -> None:
    target = _copy_model(embedding_models, tmp_path)
    manifest = json.loads((target / MANIFEST_FILE).read_text())
    manifest["files"][MODEL_FILE] = "0" * 64
    (target / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(FailedPrecondition, match=r"model\.onnx"):
        MiniLM(target, threads=1)


def test_missing_build_says_make_models(tmp_path: Path) -> None:
    with pytest.raises(FailedPrecondition, match="make models"):
        MiniLM(tmp_path, threads=1)


# --- the int8 variant -----------------------------------------------------------------------------------


def test_int8_variant_stays_close_to_sentence_transformers(minilm_int8: MiniLM, reference: dict[str, Any]) -> None:
    assert minilm_int8.variant == "int8" and minilm_int8.sha256 != ""
    texts = [item["text"] for item in reference["items"]]
    for item, result in zip(reference["items"], minilm_int8.embed(texts), strict=True):
        cosine = float(np.dot(np.asarray(item["vector"], dtype=np.float32), result.vector))
        # 8-bit blockwise weights and activations: measured 0.9994-0.9999 on resumes.
        assert cosine >= 0.999, (item["text"][:40], cosine)


def test_int8_vector_does_not_depend_on_batch_neighbours(minilm_int8: MiniLM) -> None:
    # Per-tensor dynamic int8 scales each batch by its largest value; blockwise per-row scales must not.
    text = "Backend engineer with Go and PostgreSQL experience"
    alone = minilm_int8.embed([text])[0].vector
    noisy = minilm_int8.embed(["x", "a very long neighbour " * 100, text, "y z"])[2].vector
    assert float(np.dot(alone, noisy)) > 0.99999


def test_int8_and_fp32_rank_the_same_way(minilm: MiniLM, minilm_int8: MiniLM) -> None:
    texts = [
        "Python backend developer",
        "Software engineer writing Python web services",
        "Registered nurse in intensive care",
        "Recipe for a chocolate cake",
    ]
    for model in (minilm, minilm_int8):
        query, *docs = (r.vector for r in model.embed(texts))
        scores = [float(np.dot(query, d)) for d in docs]
        assert scores == sorted(scores, reverse=True)
    assert minilm.sha256 != minilm_int8.sha256


def test_unknown_variant_is_refused(embedding_models: Path) -> None:
    with pytest.raises(FailedPrecondition, match="unknown embedding model variant 'fp16'"):
        MiniLM(model_path(embedding_models), threads=1, variant="fp16")


def test_build_without_int8_serves_fp32_and_refuses_int8(embedding_models: Path, tmp_path: Path) -> None:
    target = _copy_model(embedding_models, tmp_path)
    (target / INT8_FILE).unlink()
    manifest = json.loads((target / MANIFEST_FILE).read_text())
    del manifest["files"][INT8_FILE]
    (target / MANIFEST_FILE).write_text(json.dumps(manifest))
    assert MiniLM(target, threads=1).variant == "fp32"
    with pytest.raises(FailedPrecondition, match="int8 variant is not in the build"):
        MiniLM(target, threads=1, variant="int8")
