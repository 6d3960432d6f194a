"""Every random stream of a run comes from one user seed and the names of what it is for.

`derive_seed(seed, "noise", step, rank)` gives each purpose its own independent stream, so adding a
new use of randomness never shifts an existing one, and library code never reseeds the global RNG.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator

from creative_painting.errors import UserError

MAX_SEED = 2**64 - 1  # torch.Generator.manual_seed takes an unsigned 64-bit value


def check_seed(seed: int, what: str = "seed") -> int:
    """A seed a user typed: an integer in 0..2**64-1 (a one-line error otherwise)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise UserError(f"{what} must be an integer in 0..2**64-1, got {seed!r}")
    return seed


def derive_seed(seed: int, *keys: object) -> int:
    """A 63-bit seed for one purpose: a hash of the run's seed and `keys` (names, steps, ranks)."""
    digest = hashlib.sha256(repr((int(seed), *keys)).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


@contextlib.contextmanager
def seeded_init(seed: int) -> Iterator[None]:
    """Seed torch's global RNG for code that only draws from it (module constructors), then restore it."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
