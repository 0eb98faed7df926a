"""Analytics tools for the screening agents: plain async functions over the AnalyticsService stub.

Each returns plain dicts/lists (JSON-ready for an LLM tool call) and raises grpc.aio.AioRpcError as-is.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from hiremesh.clients import analytics_stub
from hiremesh.v1 import analytics_pb2 as pb
from hiremesh.v1 import analytics_pb2_grpc

TIMEOUT_S = 10.0


def _value(value: pb.ReportValue) -> Any:
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "timestamp_value":
        return value.timestamp_value.ToDatetime().isoformat() + "Z"
    return getattr(value, kind)


# One channel per address and event loop (aio channels belong to their loop), not one per call: the screening
# retriever calls these tools for every screening. Keyed weakly by the loop so a closed loop's channels go too.
_STUBS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str | None, Any]] = weakref.WeakKeyDictionary()


def _stub(addr: str | None) -> analytics_pb2_grpc.AnalyticsServiceAsyncStub:
    per_loop = _STUBS.setdefault(asyncio.get_running_loop(), {})
    if addr not in per_loop:
        per_loop[addr] = analytics_stub(addr)
    stub: analytics_pb2_grpc.AnalyticsServiceAsyncStub = per_loop[addr]
    return stub


async def _report(name: str, params: dict[str, str], addr: str | None, timeout: float) -> list[dict[str, Any]]:
    reply = await _stub(addr).GetReport(pb.GetReportRequest(name=name, params=params), timeout=timeout)
    names = [c.name for c in reply.columns]
    return [dict(zip(names, (_value(v) for v in row.values), strict=True)) for row in reply.rows]


async def success_rate_for_title(
    title: str, *, addr: str | None = None, timeout: float = TIMEOUT_S
) -> list[dict[str, Any]]:
    """Hiring outcomes of jobs whose title contains `title`: applications, hires, hire_rate, avg scores."""
    return await _report("job_title_success", {"title": title}, addr, timeout)


async def hiring_trends(days: int = 30, *, addr: str | None = None, timeout: float = TIMEOUT_S) -> dict[str, Any]:
    """Per-day applications/screenings/hires over the last `days`, with the funnel and AI performance."""
    return {
        "daily": await _report("hiring_trends", {"days": str(days)}, addr, timeout),
        "funnel": await _report("funnel", {}, addr, timeout),
        "ai_performance": await _report("ai_performance", {"days": str(days)}, addr, timeout),
    }


async def predict_hire(
    features: dict[str, float], *, addr: str | None = None, timeout: float = TIMEOUT_S
) -> dict[str, Any]:
    """Hire probability for an application described by HireFeatures fields (unknown keys are rejected)."""
    known = set(pb.HireFeatures.DESCRIPTOR.fields_by_name)
    unknown = sorted(set(features) - known)
    if unknown:
        raise ValueError(f"unknown feature(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    msg = pb.HireFeatures(**features)  # type: ignore[arg-type]
    reply = await _stub(addr).PredictHire(pb.PredictHireRequest(features=msg), timeout=timeout)
    return {
        "probability": reply.probability,
        "likely_hire": reply.likely_hire,
        "confidence": reply.confidence,
        "model_version": reply.model_version,
        "feature_importances": dict(reply.feature_importances),
    }
