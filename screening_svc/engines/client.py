"""A chat-completions client for any OpenAI-compatible server (vLLM, Ollama, OpenAI, llama.cpp).

Adds what the plain `openai` client lacks here: structured output in the spelling each server accepts
(detected once per base URL), retries with exponential backoff and full jitter on 429/5xx/timeouts/refused
connections (honouring Retry-After), one deadline for the whole call, and finish_reason="length" handling.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import openai

from hiremesh.errors import DeadlineExceeded, FailedPrecondition, Unavailable
from screening_svc import metrics
from screening_svc.config import LLMSettings as LLMSettings
from screening_svc.engines.base import LLMOutputError, Usage

log = logging.getLogger("screening_svc.llm")

# How to ask for JSON that follows a schema, most standard first. OpenAI and vLLM take "json_schema";
# llama.cpp's server answers that with HTTP 500 but takes {"type": "json_object", "schema": ...};
# plain "json_object" is the last resort for servers that know neither.
SPELLINGS = ("json_schema", "json_object_schema", "json_object")
# Statuses a server uses to reject a response_format it does not understand.
_SPELLING_REJECTED = frozenset({400, 422, 500})
# base URL -> the spelling that server accepted; process-wide so every engine instance learns once.
_ACCEPTED_SPELLING: dict[str, str] = {}


def response_format(spelling: str, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    if spelling == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}
    if spelling == "json_object_schema":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_object"}


def accepted_spelling(base_url: str) -> str | None:
    """The response_format spelling `base_url` is known to accept (None until a call succeeded)."""
    return _ACCEPTED_SPELLING.get(base_url.rstrip("/"))


def forget_spellings() -> None:
    """Forget every learnt spelling (tests, or after an endpoint was replaced)."""
    _ACCEPTED_SPELLING.clear()


@dataclass
class Completion:
    text: str
    model: str
    usage: Usage
    spelling: str
    attempts: int


class _Retryable(Exception):
    def __init__(self, cause: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.cause = cause
        self.retry_after = retry_after


def _retry_after(exc: openai.APIStatusError) -> float | None:
    raw = exc.response.headers.get("retry-after") if exc.response is not None else None
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None  # an HTTP date: rare from LLM servers, fall back to our own backoff


def _status_detail(exc: openai.APIStatusError) -> str:
    return f"HTTP {exc.status_code}: {str(exc.message)[:300]}"


class ChatClient:
    """JSON chat completions against one OpenAI-compatible endpoint."""

    def __init__(self, settings: LLMSettings) -> None:
        if not settings.configured:
            raise FailedPrecondition("no LLM configured: set HIREMESH_LLM_BASE_URL")
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        # Retries are ours (jitter, Retry-After, one deadline), so the SDK must not add its own.
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url, api_key=settings.api_key, max_retries=0, timeout=settings.attempt_timeout_s
        )
        self._model = settings.model
        self._model_lock = asyncio.Lock()

    async def close(self) -> None:
        await self._client.close()

    async def model(self) -> str:
        """The configured model, or the first one the server lists when none is configured."""
        if self._model:
            return self._model
        async with self._model_lock:
            if not self._model:
                try:
                    page = await self._client.models.list(timeout=min(10.0, self.settings.attempt_timeout_s))
                except openai.APIError as exc:
                    raise Unavailable(f"LLM endpoint {self.base_url} did not list its models: {exc}") from exc
                if not page.data:
                    raise Unavailable(f"LLM endpoint {self.base_url} serves no model; set HIREMESH_LLM_MODEL")
                self._model = page.data[0].id
        return self._model

    async def complete_json(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        schema_name: str,
        *,
        call: str,
        max_tokens: int | None = None,
    ) -> Completion:
        """The text of one JSON-mode completion. Raises DeadlineExceeded, Unavailable (endpoint down or
        erroring after retries), FailedPrecondition (request refused) or LLMOutputError (truncated/empty)."""
        started = time.perf_counter()
        outcome = "error"
        try:
            async with asyncio.timeout(self.settings.deadline_s):
                result = await self._with_retries(messages, schema, schema_name, max_tokens)
            outcome = "ok"
            return result
        except TimeoutError:
            outcome = "deadline"
            raise DeadlineExceeded(f"LLM call exceeded its {self.settings.deadline_s:g}s deadline") from None
        finally:
            metrics.LLM_LATENCY.labels(call, outcome).observe(time.perf_counter() - started)

    async def _with_retries(
        self, messages: list[dict[str, str]], schema: dict[str, Any], schema_name: str, max_tokens: int | None
    ) -> Completion:
        model = await self.model()
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(model, messages, schema, schema_name, max_tokens, attempt)
            except _Retryable as exc:
                if attempt > self.settings.max_retries:
                    raise Unavailable(
                        f"LLM endpoint {self.base_url} failed after {attempt} attempt(s): {exc}"
                    ) from None
                cap = min(self.settings.backoff_max_s, self.settings.backoff_s * 2 ** (attempt - 1))
                delay = random.uniform(0, cap)  # full jitter: replicas retrying together do not stampede
                if exc.retry_after is not None:
                    delay = max(delay, min(exc.retry_after, self.settings.backoff_max_s))
                metrics.LLM_RETRIES.labels(exc.cause).inc()
                log.info("LLM attempt %d failed (%s); retrying in %.2fs", attempt, exc, delay)
                await asyncio.sleep(delay)

    async def _attempt(
        self,
        model: str,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        schema_name: str,
        max_tokens: int | None,
        attempt: int,
    ) -> Completion:
        known = _ACCEPTED_SPELLING.get(self.base_url)
        candidates = [known] if known else list(SPELLINGS)
        last: openai.APIStatusError | None = None
        for spelling in candidates:
            try:
                response = await self._client.chat.completions.create(
                    model=model,
                    messages=messages,  # type: ignore[arg-type]
                    max_tokens=max_tokens or self.settings.max_tokens,
                    temperature=self.settings.temperature,
                    extra_body={"response_format": response_format(spelling, schema_name, schema)},
                )
            except openai.APIStatusError as exc:
                if known is None and exc.status_code in _SPELLING_REJECTED:
                    # Maybe the server does not understand this spelling: try the next one right away.
                    log.info(
                        "%s answered %s to response_format %r; trying the next spelling",
                        self.base_url,
                        exc.status_code,
                        spelling,
                    )
                    last = exc
                    continue
                raise self._classify(exc) from exc
            except openai.APITimeoutError:
                raise _Retryable("timeout", f"no answer within {self.settings.attempt_timeout_s:g}s") from None
            except openai.APIConnectionError as exc:
                raise _Retryable("connection", f"cannot connect: {exc.__cause__ or exc}") from None
            except openai.APIError as exc:  # e.g. a 200 whose body is not a chat completion
                raise Unavailable(f"LLM endpoint {self.base_url} sent an unusable response: {exc}") from exc
            if known is None:
                _ACCEPTED_SPELLING[self.base_url] = spelling
                log.info("%s accepts response_format spelling %r", self.base_url, spelling)
            return self._completion(response, spelling, attempt)
        assert last is not None
        # Every spelling was refused: a real server error (or a bad request), not a spelling problem.
        raise self._classify(last) from last

    def _classify(self, exc: openai.APIStatusError) -> Exception:
        if exc.status_code == 429:
            return _Retryable("429", _status_detail(exc), _retry_after(exc))
        if exc.status_code >= 500:
            return _Retryable("5xx", _status_detail(exc), _retry_after(exc))
        return FailedPrecondition(f"LLM endpoint {self.base_url} refused the request: {_status_detail(exc)}")

    def _completion(self, response: Any, spelling: str, attempts: int) -> Completion:
        usage = Usage()
        if response.usage is not None:
            usage = Usage(int(response.usage.prompt_tokens or 0), int(response.usage.completion_tokens or 0))
            metrics.LLM_TOKENS.labels("prompt").inc(usage.prompt_tokens)
            metrics.LLM_TOKENS.labels("completion").inc(usage.completion_tokens)
        if not response.choices:
            raise LLMOutputError("empty", "the LLM returned no choices")
        choice = response.choices[0]
        text = choice.message.content or ""
        if choice.finish_reason == "length":
            raise LLMOutputError("truncated", f"the answer hit max_tokens after {usage.completion_tokens} tokens")
        if not text.strip():
            raise LLMOutputError("empty", "the LLM returned an empty answer")
        return Completion(text=text, model=str(response.model or ""), usage=usage, spelling=spelling, attempts=attempts)
