"""Exponential backoff with full jitter, honouring Retry-After."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random


def _new_rng() -> random.Random:
    import random  # (loaded by the first policy made, not by importing this module)

    return random.Random()


@dataclass
class RetryPolicy:
    """How often and how long to retry: backoff with jitter, Retry-After honoured."""

    max_attempts: int = 6  # attempts per request that make no progress
    base: float = 0.25
    cap: float = 8.0
    max_retry_after: float = 60.0
    rng: random.Random = field(default_factory=_new_rng)

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Delay before attempt ``attempt + 1`` (attempt counts from 1)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)
