"""Analytics answers the retriever gathers as context for each screening, when analytics_svc is configured.

On with HIREMESH_SCREENING_ANALYTICS_TOOLS (`hiremesh up` and deploy/ turn it on); each call has its own short
deadline, and a failing tool is noted in the retriever's trace, never fatal.
"""

from __future__ import annotations

from typing import Any

from screening_svc.analytics_tools import success_rate_for_title
from screening_svc.engines import CandidateInfo, JobInfo


def analytics_tools(addr: str, timeout: float) -> dict[str, Any]:
    """Tool name -> async (candidate, job) -> JSON-ready answer."""

    async def job_title_success(candidate: CandidateInfo, job: JobInfo) -> list[dict[str, Any]]:
        return await success_rate_for_title(job.title, addr=addr, timeout=timeout)

    return {"analytics.job_title_success": job_title_success}


__all__ = ["analytics_tools"]
