"""One place that turns a user seed into random streams.

Streams are derived from the seed and a list of names by hashing, never from the order in
which streams are created, so adding a field does not change the values of the others and
the output is the same on every machine (no ``hash()``, which is salted per process).
"""

from __future__ import annotations

import hashlib

import numpy as np

DEFAULT_SEED = 0


def normalise_seed(seed: int | None) -> int:
    """Map ``None`` to the default seed and check the type; seeds are non-negative ints."""
    if seed is None:
        return DEFAULT_SEED
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return seed


def derive_seed(seed: int, *names: str | int) -> int:
    """A 63-bit seed that depends only on ``seed`` and ``names``."""
    text = "\x1f".join([str(seed), *map(str, names)]).encode("utf-8")
    digest = hashlib.blake2b(text, digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def rng_for(seed: int, *names: str | int) -> np.random.Generator:
    """A numpy Generator (PCG64) private to ``names`` under ``seed``."""
    return np.random.Generator(np.random.PCG64(derive_seed(seed, *names)))
