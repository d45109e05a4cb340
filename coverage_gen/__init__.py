"""coverage_gen: minimal t-wise covering arrays expanded into test records.

The public API is re-exported here; heavy dependencies (ortools, numba, pyarrow) load lazily.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
