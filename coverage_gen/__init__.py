"""coverage_gen: minimal t-wise covering arrays expanded into test records.

The public API is re-exported here; heavy dependencies (ortools, numba, pyarrow) load lazily:
``import coverage_gen`` loads neither the engine nor numpy.

>>> import coverage_gen
>>> result = coverage_gen.cover({"os": ["linux", "mac"], "py": ["3.11", "3.12"]})
>>> len(result)
4
"""

# No ``from __future__ import annotations`` and only private imports: every public name in
# this namespace must be in ``__all__`` (tests/unit/test_library.py checks it).
import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

__version__ = "0.1.0"

__all__ = [
    "CoverResult",
    "CoverageGenError",
    "InfeasibleSpecError",
    "SpecError",
    "UsageError",
    "__version__",
    "cover",
    "label_of",
]

if _TYPE_CHECKING:
    from coverage_gen.errors import CoverageGenError as CoverageGenError
    from coverage_gen.errors import InfeasibleSpecError as InfeasibleSpecError
    from coverage_gen.errors import SpecError as SpecError
    from coverage_gen.errors import UsageError as UsageError
    from coverage_gen.library import CoverResult as CoverResult
    from coverage_gen.library import cover as cover
    from coverage_gen.library import label_of as label_of

# Public name -> the module that defines it; imported on first access (PEP 562).
_LAZY = {
    "cover": "coverage_gen.library",
    "CoverResult": "coverage_gen.library",
    "label_of": "coverage_gen.library",
    "CoverageGenError": "coverage_gen.errors",
    "InfeasibleSpecError": "coverage_gen.errors",
    "SpecError": "coverage_gen.errors",
    "UsageError": "coverage_gen.errors",
}


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))  # lazy names too (``cover`` is in __all__)
