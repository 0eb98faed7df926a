"""Request rate limiting (token buckets, answered with 429 and Retry-After) and who the client is.

Three buckets are kept: per client address before authentication (so a flood of made-up tokens is throttled
before it costs anything), per address for failed API-key look-ups (so unknown keys stop reaching the
database), and per bearer token after authentication. Every table is bounded: past `max_keys` the least
recently used keys go first, so a client cycling through addresses or tokens cannot grow memory.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict

from aiohttp import web


class RateLimiter:
    """`rate` requests per second on average per key, bursts up to `burst`; rate 0 admits everything."""

    def __init__(self, rate: float, burst: int, *, max_keys: int = 50_000) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, last refill)

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - last) * self.rate)

    def acquire(self, key: str, cost: float = 1.0) -> float:
        """0 when the request may go ahead, else the seconds until it could."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        tokens = self._tokens(key, now)
        wait = 0.0
        if tokens >= cost:
            tokens -= cost
        else:
            wait = (cost - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

    def refund(self, key: str, cost: float = 1.0) -> None:
        """Give back what `acquire` took (the request turned out not to count)."""
        if self.rate <= 0 or key not in self._buckets:
            return
        tokens, last = self._buckets[key]
        self._buckets[key] = (min(self.burst, tokens + cost), last)

    def wait_time(self, key: str) -> float:
        """Seconds until `key` could spend one token, without spending it (0: it can now)."""
        if self.rate <= 0:
            return 0.0
        tokens = self._tokens(key, time.monotonic())
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


def client_address(request: web.Request, trusted_proxies: tuple[str, ...] = ()) -> str:
    """The caller's address: the TCP peer, or the last untrusted hop of X-Forwarded-For behind a trusted proxy.

    IPv6 clients are keyed by their /64, which is what one host usually controls.
    """
    peer = request.remote or "unknown"
    if trusted_proxies and _trusted(peer, trusted_proxies):
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        for hop in reversed(hops):
            if not _trusted(hop, trusted_proxies):
                peer = hop
                break
    return _key(peer)


def _trusted(address: str, proxies: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for spec in proxies:
        try:
            if ip in ipaddress.ip_network(spec, strict=False):
                return True
        except ValueError:
            continue
    return False


def _key(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6 and not ip.ipv4_mapped:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)
