"""Bulk candidate import (files, a server-side folder, JSONL records) with progress and per-record errors.

Every input record ends as exactly one of created, duplicate or failed-with-a-reason; re-running an import
creates nothing new, because each record carries a sha256 (of the file, or of a JSONL record's text).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from hiremesh.errors import HiremeshError, InvalidArgument
from search_svc import ingest, metrics
from search_svc.candidates import Candidates, ResumeUpload, prepare
from search_svc.records import Candidate, candidate_text

log = logging.getLogger("search_svc.importer")

DEFAULT_BATCH = 64
MAX_BATCH = 256
SUMMARY_ERRORS = 1000  # failed records repeated in the final summary
# What a folder import picks up by name; each file's format is then sniffed from its content.
FOLDER_SUFFIXES = (*ingest.SUFFIXES, ".jsonl")
_STRING_FIELDS = ("name", "email", "phone", "location", "headline", "resume_file_name", "resume_text")


Loader = Callable[[Candidates], Awaitable[Candidate]]


@dataclass
class Source:
    """One input record: a name for error messages and a loader that yields a prepared Candidate (files are
    parsed by the store's parser workers)."""

    name: str
    load: Loader


@dataclass
class ImportEvent:
    done: int
    total: int
    failed: int
    message: str
    errors: list[tuple[str, str]] = field(default_factory=list)
    final: bool = False
    created: int = 0
    duplicates: int = 0
    candidate_ids: list[str] = field(default_factory=list)
    summary_errors: list[tuple[str, str]] = field(default_factory=list)  # on the final event: every failure so far


def record_candidate(line: str) -> Candidate:
    """A prepared Candidate from one JSONL record; InvalidArgument says what is wrong with it."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidArgument("record", f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(data, dict):
        raise InvalidArgument("record", "expected a JSON object")
    given = Candidate()
    for name in _STRING_FIELDS:
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidArgument(f"record.{name}", "expected a string")
        setattr(given, name, value)
    years = data.get("years_experience")
    if years is not None:
        if isinstance(years, bool) or not isinstance(years, int | float):
            raise InvalidArgument("record.years_experience", "expected a number")
        given.years_experience = float(years)
    skills = data.get("skills")
    if skills is not None:
        if not isinstance(skills, list) or not all(isinstance(s, str) for s in skills):
            raise InvalidArgument("record.skills", "expected a list of strings")
        given.skills = list(skills)
    c = prepare(given, None, field="record")
    if c.resume_sha256 is None:  # no text: the whole record is what identifies it on a re-run
        c.resume_sha256 = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    return c


def _file_loader(upload: ResumeUpload, field_name: str) -> Loader:
    async def load(store: Candidates) -> Candidate:
        extracted = await store.parse(upload, field_name)
        return await asyncio.to_thread(prepare, Candidate(), upload, field_name, extracted)

    return load


def _path_loader(path: Path) -> Loader:
    # Read when the record's batch is processed, so a big folder is never all in memory at once.
    async def load(store: Candidates) -> Candidate:
        try:
            content = await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise InvalidArgument("file", f"cannot read: {exc.strerror or exc}") from None
        upload = ResumeUpload(path.name, ingest.media_type_for(path.name) or "", content)
        return await _file_loader(upload, "file")(store)

    return load


def _record_loader(line: str) -> Loader:
    async def load(_store: Candidates) -> Candidate:
        return await asyncio.to_thread(record_candidate, line)

    return load


def _failing(exc: HiremeshError) -> Loader:
    async def load(_store: Candidates) -> Candidate:
        raise exc

    return load


def sources_from(
    files: list[ResumeUpload],
    folder: str,
    records: list[str],
    import_root: Path | None,
    max_bytes: int = ingest.MAX_RESUME_BYTES,
) -> list[Source]:
    """Every record the request names, in request order: files, then the folder's files, then records."""
    out: list[Source] = []
    for i, upload in enumerate(files):
        name = upload.file_name or f"file {i + 1}"
        if upload.file_name.lower().endswith(".jsonl"):
            out += _jsonl_sources(name, upload.content.decode("utf-8", errors="replace"))
        else:
            out.append(Source(name, _file_loader(upload, f"files[{i}]")))
    if folder:
        out += _folder_sources(folder, import_root, max_bytes)
    for i, line in enumerate(records):
        out.append(Source(f"record {i + 1}", _record_loader(line)))
    return out


def _jsonl_sources(name: str, text: str) -> list[Source]:
    return [
        Source(f"{name} line {n}", _record_loader(line))
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]


def _folder_sources(folder: str, import_root: Path | None, max_bytes: int) -> list[Source]:
    """The folder's files; with an import root, the folder (relative to it, or absolute inside it) and every
    file in it must resolve, symlinks followed, to a place inside the root."""
    raw = Path(folder)
    root = import_root.resolve() if import_root is not None else None
    if root is None:
        if not raw.expanduser().is_absolute():
            raise InvalidArgument("folder", "must be an absolute path on the search service's machine")
        path = raw.expanduser().resolve()
    else:
        if ".." in raw.parts or "\x00" in folder:
            raise InvalidArgument("folder", "must not contain '..'; give a folder inside the import root")
        path = (raw if raw.is_absolute() else root / raw).resolve()
        if not path.is_relative_to(root):
            raise InvalidArgument("folder", f"outside the import root {import_root}")
    if not path.is_dir():
        raise InvalidArgument("folder", f"{folder} is not a readable folder")
    out: list[Source] = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path)
        if any(part.startswith(".") for part in rel.parts):
            continue
        name = str(rel)
        if root is not None and not file.resolve().is_relative_to(root):
            out.append(Source(name, _failing(InvalidArgument("file", "links outside the import root"))))
            continue
        suffix = file.suffix.lower()
        if suffix not in FOLDER_SUFFIXES:
            out.append(Source(name, _failing(InvalidArgument("file", f"unsupported file type {suffix or '(none)'}"))))
            continue
        size = file.stat().st_size
        if size > max_bytes:  # refused without reading it
            out.append(
                Source(
                    name,
                    _failing(
                        InvalidArgument(
                            "file.content",
                            f"{ingest.label(name)} is {size} bytes; the file size limit is {max_bytes} bytes",
                        )
                    ),
                )
            )
            continue
        if suffix == ".jsonl":
            out += _jsonl_sources(name, file.read_text(encoding="utf-8", errors="replace"))
        else:
            out.append(Source(name, _path_loader(file)))
    return out


async def _load_all(store: Candidates, batch: list[Source]) -> list[Candidate | HiremeshError]:
    """Every source of a batch loaded, as many at a time as there are parser workers (plus one being read)."""
    gate = asyncio.Semaphore(store.parser.workers + 1)

    async def one(source: Source) -> Candidate | HiremeshError:
        async with gate:
            try:
                return await source.load(store)
            except HiremeshError as exc:
                return exc

    return list(await asyncio.gather(*(one(s) for s in batch)))


async def run_import(store: Candidates, sources: list[Source], batch_size: int) -> AsyncIterator[ImportEvent]:
    """Import `sources` in batches (one Embed call per batch), yielding progress and finally the summary."""
    size = batch_size or DEFAULT_BATCH
    if not 1 <= size <= MAX_BATCH:
        raise InvalidArgument("batch_size", f"must be between 1 and {MAX_BATCH} (0 means {DEFAULT_BATCH})")
    total = len(sources)
    done = failed = created = duplicates = 0
    ids: list[str] = []
    all_errors: list[tuple[str, str]] = []
    yield ImportEvent(0, total, 0, f"{total} record(s) to import")
    for start in range(0, total, size):
        batch = sources[start : start + size]
        errors: list[tuple[str, str]] = []
        ready: list[Candidate] = []
        for source, outcome in zip(batch, await _load_all(store, batch), strict=True):
            if isinstance(outcome, Candidate):
                ready.append(outcome)
            else:
                errors.append((source.name, outcome.message))
        # Drop what is already stored (or repeated inside this batch) before paying for embeddings.
        known = await store.existing_sha256([c.resume_sha256 for c in ready if c.resume_sha256])
        fresh: list[Candidate] = []
        seen: set[str] = set()
        for c in ready:
            sha = c.resume_sha256 or ""
            if sha in known:
                duplicates += 1
                ids.append(known[sha])
            elif sha and sha in seen:
                duplicates += 1
            else:
                seen.add(sha)
                fresh.append(c)
        if fresh:
            vectors = await store.try_embed([candidate_text(c) for c in fresh])
            for cand, dedup in await store.insert_many(fresh, vectors):
                ids.append(cand.id)
                duplicates += dedup
                created += not dedup
        failed += len(errors)
        all_errors += errors[: max(0, SUMMARY_ERRORS - len(all_errors))]
        done += len(batch)
        metrics.IMPORTED.labels("failed").inc(len(errors))
        yield ImportEvent(done, total, failed, f"imported {done}/{total}", errors)
    metrics.IMPORTED.labels("created").inc(created)
    metrics.IMPORTED.labels("duplicate").inc(duplicates)
    log.info("import: %d created, %d duplicates, %d failed of %d", created, duplicates, failed, total)
    yield ImportEvent(
        done,
        total,
        failed,
        f"done: {created} created, {duplicates} duplicates, {failed} failed",
        final=True,
        created=created,
        duplicates=duplicates,
        candidate_ids=list(dict.fromkeys(ids)),
        summary_errors=all_errors,
    )
