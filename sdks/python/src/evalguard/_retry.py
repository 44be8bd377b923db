"""When a failed request is tried again, and after how long.

Pure functions, shared by the sync and async clients.
"""

from __future__ import annotations

import email.utils
import random
import time

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
# A server asking for a longer pause than this is not retried: the caller
# gets the RateLimitError (with its retry_after) and decides.
MAX_RETRY_AFTER = 60.0

RETRYABLE_STATUSES = frozenset({408, 429}) | frozenset(range(500, 600))
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_safe_to_repeat(method: str, headers: dict[str, str]) -> bool:
    """GETs, and any request carrying an Idempotency-Key (the server answers
    its repetition with the first answer instead of acting twice)."""
    if method.upper() in SAFE_METHODS:
        return True
    return any(name.lower() == "idempotency-key" for name in headers)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = parsed.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds < 0:  # NaN or in the past
        return 0.0
    return seconds


def backoff_delay(retries_done: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: 0.5 s, 1 s, 2 s, … up to 8 s, each
    shortened by up to a quarter so that clients do not retry in step."""
    base = min(INITIAL_DELAY * (2.0**retries_done), MAX_DELAY)
    jitter = (rng or random).random() * 0.25
    return base * (1.0 - jitter)


def retry_delay(
    retries_done: int, retry_after: str | None, rng: random.Random | None = None
) -> float | None:
    """The pause before the next attempt, or ``None`` when the server asked
    for a pause too long to wait for."""
    asked = parse_retry_after(retry_after)
    if asked is None:
        return backoff_delay(retries_done, rng)
    if asked > MAX_RETRY_AFTER:
        return None
    return asked
