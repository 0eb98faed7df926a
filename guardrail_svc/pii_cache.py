"""A bounded cache of PII findings per text, so strings seen again skip spaCy's NER.

Screening results repeat most of their strings across a job's applicants (interview questions built per
skill, recommendations, "missing required skills" lines): the NER is the guardrail's dearest step and its
answer for a string never changes while the process lives. Keys are BLAKE2b digests of the text and the
entity set asked for, values are offsets and types only: the cache never holds the text, so it keeps no PII.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

from guardrail_svc import metrics
from guardrail_svc.report import PiiFinding

DEFAULT_CACHE_ENTRIES = 4096
# Long texts (whole resumes) are rarely scanned twice and would crowd out the short strings that repeat.
MAX_CACHED_CHARS = 2_000


class FindingsCache:
    """Least-recently-used findings for up to `entries` texts; thread-safe; `entries=0` turns it off."""

    def __init__(self, entries: int, max_chars: int = MAX_CACHED_CHARS) -> None:
        self.entries = entries
        self.max_chars = max_chars
        self._items: OrderedDict[bytes, tuple[PiiFinding, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def key(self, text: str, entities: Sequence[str], ner: bool) -> bytes | None:
        """The cache key for this scan of `text`, or None when the text is not cached at all."""
        if self.entries <= 0 or len(text) > self.max_chars:
            return None
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16)
        digest.update(b"\0ner" if ner else b"\0rules")
        for entity in sorted(entities):
            digest.update(b"\0" + entity.encode())
        return digest.digest()

    def get(self, key: bytes | None) -> list[PiiFinding] | None:
        if key is None:
            return None
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
        metrics.PII_CACHE.labels("hit" if found is not None else "miss").inc()
        return list(found) if found is not None else None

    def put(self, key: bytes | None, findings: Sequence[PiiFinding]) -> None:
        if key is None:
            return
        with self._lock:
            self._items[key] = tuple(findings)
            self._items.move_to_end(key)
            while len(self._items) > self.entries:
                self._items.popitem(last=False)
