"""spec layer: input files (our YAML spec, PICT model files) → frozen model objects."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from coverage_gen.spec.check import check_model
from coverage_gen.spec.model import CombinatorialModel, Spec
from coverage_gen.spec.parse import load_spec, parse_spec

__all__ = ["Spec", "load_model", "load_spec", "parse_spec"]

YAML_SUFFIXES = (".yaml", ".yml")


def load_model(
    path: str | Path, strength: int | None = None, seed: int | None = None
) -> tuple[CombinatorialModel, Spec | None]:
    """Load a YAML spec or a PICT model file as a ``CombinatorialModel``.

    Parameters
    ----------
    path
        ``.yaml``/``.yml`` is read as our spec; any other suffix (``.txt``, ``.pict``, ...)
        as a PICT model file.
    strength, seed
        Override the file's values when given (a PICT file has none: 2 and 0 by default).

    Returns
    -------
    (model, spec)
        ``spec`` is ``None`` for PICT files: they declare no record fields beyond factors.

    Raises
    ------
    SpecError
        Every problem in the file, including model-level ones (``check_model``) under the
        overridden strength.
    """
    if Path(path).suffix.lower() in YAML_SUFFIXES:
        spec: Spec | None = load_spec(path)
        assert spec is not None
        spec = dataclasses.replace(
            spec,
            strength=spec.strength if strength is None else strength,
            seed=spec.seed if seed is None else seed,
        )
        model = spec.combinatorial_model()
    else:
        from coverage_gen.spec.pict import load_pict  # only PICT users pay for its import

        spec = None
        model = load_pict(path, strength=2 if strength is None else strength, seed=seed or 0)
    check_model(model)
    return model, spec
