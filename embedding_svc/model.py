"""all-MiniLM-L6-v2 on onnxruntime: tokenise, bucket by length, run, mean-pool, L2-normalise.

Blocking and CPU-bound: call `MiniLM.embed` from an executor thread, never on the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

from embedding_svc.artifacts import TOKENIZER_FILE, VARIANT_FILES, Manifest, verify
from hiremesh.errors import FailedPrecondition

log = logging.getLogger("embedding_svc.model")

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Embedded:
    """One text's vector (L2-normalised), the word pieces the model saw (with [CLS]/[SEP]) and whether
    the text was cut at `max_tokens`."""

    vector: Vectors
    token_count: int
    truncated: bool


def mean_pool(hidden: Vectors, mask: npt.NDArray[np.int64]) -> Vectors:
    """Average the token vectors that the attention mask keeps (padding excluded), then L2-normalise."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    counts = np.clip(weights.sum(axis=1), 1e-9, None)
    return normalise(summed / counts)


def normalise(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: Vectors = (vectors / np.clip(norms, 1e-12, None)).astype(np.float32, copy=False)
    return unit


def length_buckets(lengths: Sequence[int], token_budget: int, max_rows: int) -> list[list[int]]:
    """Indices grouped into runs of similar length, shortest first.

    Each group pads to its own longest member, so a short text never pays for a long one's padding;
    a group's padded size (rows × longest) stays within `token_budget`, which keeps attention's
    memory and cache footprint flat whatever the mix.
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    groups: list[list[int]] = []
    current: list[int] = []
    for index in order:
        longest = lengths[index]  # ascending order: the newcomer is the longest
        if current and ((len(current) + 1) * longest > token_budget or len(current) >= max_rows):
            groups.append(current)
            current = []
        current.append(index)
    if current:
        groups.append(current)
    return groups


class MiniLM:
    """An onnxruntime session over the built model; thread-safe for one caller at a time per batch."""

    def __init__(
        self,
        folder: Path,
        *,
        threads: int,
        token_budget: int = 8192,
        max_rows: int = 64,
        spin: bool = False,
        variant: str = "fp32",
    ) -> None:
        try:
            self.manifest: Manifest = verify(folder)  # checksum before a byte reaches onnxruntime
        except (ValueError, KeyError, OSError) as exc:
            raise FailedPrecondition(f"embedding model not usable: {exc}") from exc
        if variant not in VARIANT_FILES:
            raise FailedPrecondition(f"unknown embedding model variant {variant!r}; one of {', '.join(VARIANT_FILES)}")
        self.model_file = VARIANT_FILES[variant]
        if self.model_file not in self.manifest.files:
            raise FailedPrecondition(
                f"the {variant} variant is not in the build at {folder}; rebuild with `make models`"
            )
        self._variant = variant
        self.folder = folder
        self.token_budget = token_budget
        self.max_rows = max_rows
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        # tokenizer.json ships truncation and fixed padding at 128; the model was trained to 256.
        self.tokenizer.enable_truncation(self.max_tokens)
        # Padding happens per length bucket below (to the bucket's longest, as enable_padding() would),
        # so the tokeniser itself must not pad everything to one length.
        self.tokenizer.no_padding()
        self._pad_id = self.tokenizer.token_to_id("[PAD]") or 0

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if not spin:
            # Idle intra-op threads otherwise busy-wait after every run, taking the cores from the services
            # sharing the machine (guardrail's NER ran ~25% slower right after an Embed).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(folder / self.model_file), options, providers=["CPUExecutionProvider"])
        self._inputs = {node.name for node in self.session.get_inputs()}
        outputs = [node.name for node in self.session.get_outputs()]
        # The sentence-transformers export pools and normalises in the graph; a plain transformer export
        # gives token vectors, which are pooled here.
        self._pooled_output = "sentence_embedding" if "sentence_embedding" in outputs else None
        self._token_output = (
            next(n for n in ("token_embeddings", "last_hidden_state") if n in outputs)
            if self._pooled_output is None
            else None
        )
        self.warmed = False
        log.info("loaded %s (%s, sha256 %s, %d threads)", self.name, self.variant, self.sha256[:12], threads)

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def variant(self) -> str:
        return self._variant

    @property
    def dimension(self) -> int:
        return self.manifest.dimension

    @property
    def max_tokens(self) -> int:
        return self.manifest.max_tokens

    @property
    def sha256(self) -> str:
        return self.manifest.files[self.model_file]

    def tokenize(self, texts: Sequence[str]) -> list[Encoding]:
        return list(self.tokenizer.encode_batch(list(texts)))

    def embed(self, texts: Sequence[str]) -> list[Embedded]:
        """Vectors for `texts`, in order. Results do not depend on which other texts share the call."""
        if not texts:
            return []
        encodings = self.tokenize(texts)
        lengths = [len(enc.ids) for enc in encodings]
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for group in length_buckets(lengths, self.token_budget, self.max_rows):
            vectors[group] = self._run([encodings[i] for i in group])
        return [
            Embedded(vector=vectors[i], token_count=lengths[i], truncated=bool(encodings[i].overflowing))
            for i in range(len(texts))
        ]

    def _run(self, encodings: Sequence[Encoding]) -> Vectors:
        width = max(len(enc.ids) for enc in encodings)
        ids = np.full((len(encodings), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        if self._pooled_output is not None:
            (pooled,) = self.session.run([self._pooled_output], feeds)
            return normalise(np.asarray(pooled, dtype=np.float32))
        assert self._token_output is not None
        (hidden,) = self.session.run([self._token_output], feeds)
        return mean_pool(np.asarray(hidden, dtype=np.float32), mask)

    def warm_up(self) -> None:
        """Run a few shapes once so the first real caller does not pay for allocator growth."""
        self.embed(["warm up"])
        self.embed(["a resume line " * 60] * 8)
        self.embed([f"short text {i}" for i in range(32)])
        self.warmed = True
