"""Start the guardrail service: load every model once, warm up, then report SERVING."""

from __future__ import annotations

import asyncio
import logging

from threadpoolctl import threadpool_limits

from guardrail_svc.config import GuardrailConfig
from guardrail_svc.llm_bias import LlmBiasChecker
from guardrail_svc.offload import Offloader
from guardrail_svc.pii import PiiDetector
from guardrail_svc.scanner import Guardrail, Limits
from guardrail_svc.servicer import GuardrailServicer
from guardrail_svc.toxicity import ToxicityBackendError, ToxicityScorer, load_backend
from hiremesh.config import ConfigError
from hiremesh.server import MeshServer, run
from hiremesh.v1 import guardrail_pb2_grpc

log = logging.getLogger("guardrail_svc")
SERVICE = "hiremesh.v1.GuardrailService"


def build_guardrail(config: GuardrailConfig) -> Guardrail:
    # Requests already run on `workers` threads; OpenBLAS's own threads on top of them only spin against the
    # other services' processes for the few cores (the NER's products are small): one BLAS thread each.
    threadpool_limits(1, "blas")
    try:
        backend = load_backend(config.detoxify_checkpoint, config.detoxify_model_type, config.detoxify_config_dir)
    except ToxicityBackendError as exc:
        raise ConfigError("HIREMESH_DETOXIFY_CHECKPOINT", str(exc)) from None
    pii = PiiDetector(
        score_threshold=config.pii_score_threshold,
        hash_salt=config.redaction_salt,
        cache_entries=config.pii_cache_entries,
    )
    toxicity = ToxicityScorer(backend, config.toxicity_threshold)
    guardrail = Guardrail(pii, toxicity, Limits(config.max_text_bytes, config.max_batch_texts))
    guardrail.scan_text("Warm-up resume for Jane Doe, jane@example.com. A young salesman.")
    return guardrail


async def main() -> None:
    config = GuardrailConfig.from_env()
    server = MeshServer("guardrail", config.port, [SERVICE])
    offload = Offloader(config.workers, config.max_pending)
    servicer = GuardrailServicer(offload)
    guardrail_pb2_grpc.add_GuardrailServiceServicer_to_server(servicer, server.grpc)
    server.on_shutdown(offload.close)
    await server.start()  # health says NOT_SERVING until the models are loaded and warm
    guardrail = await asyncio.to_thread(build_guardrail, config)
    llm = (
        LlmBiasChecker(config.llm_base_url, config.llm_model, config.llm_api_key, config.llm_timeout_s)
        if config.llm_bias
        else None
    )
    servicer.attach(guardrail, llm)
    if llm is not None:
        server.on_shutdown(llm.close)
    server.set_serving(True)
    log.info("guardrail ready (toxicity backend %s)", guardrail.toxicity.backend.name)
    await server.wait()


if __name__ == "__main__":
    run(main())
