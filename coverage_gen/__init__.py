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
import sys as _sys
import types as _types
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


# ``cover`` names both the library function and the ``coverage_gen.cover`` subpackage (the
# engine). A plain lazy re-export would break: importing the subpackage makes the import
# system set ``coverage_gen.cover`` to the module, after which ``coverage_gen.cover(...)``
# fails. So ``cover`` is one object that is both: calling it runs the library function, and
# its attributes are the subpackage's (``coverage_gen.cover.search`` still works). The
# package's own class gets a ``cover`` property whose setter keeps the imported subpackage.
class _CoverEntry:
    """``coverage_gen.cover(factors, strength=2, ...)``; see :func:`coverage_gen.library.cover`."""

    __slots__ = ()

    def __call__(self, *args: _Any, **kwargs: _Any) -> _Any:
        from coverage_gen.library import cover

        return cover(*args, **kwargs)

    def __getattr__(self, name: str) -> _Any:
        return getattr(_importlib.import_module("coverage_gen.cover"), name)

    def __repr__(self) -> str:
        return "<function coverage_gen.cover (and the coverage_gen.cover engine package)>"


class _Package(_types.ModuleType):
    @property
    def cover(self) -> "_CoverEntry":
        return _COVER

    @cover.setter
    def cover(self, module: _types.ModuleType) -> None:
        self.__dict__["_cover_package"] = module  # set by the import system


_COVER = _CoverEntry()
_sys.modules[__name__].__class__ = _Package
