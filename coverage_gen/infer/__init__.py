"""Draft a spec from CSV samples (``infer_spec``) and guard generated data against leaking
sample values (``check_leakage``).

Layer: beside ``report``/``verify``; imports ``spec`` and ``errors`` only. pycountry and
Babel are imported in ``standards.py`` alone.
"""

from __future__ import annotations

from coverage_gen.infer.draft import InferResult as InferResult
from coverage_gen.infer.draft import draft_spec as draft_spec
from coverage_gen.infer.draft import infer_spec as infer_spec
from coverage_gen.infer.leakage import LeakageReport as LeakageReport
from coverage_gen.infer.leakage import check_leakage as check_leakage
from coverage_gen.infer.read import SampleTable as SampleTable
from coverage_gen.infer.read import read_sample as read_sample
from coverage_gen.infer.read import sample_from_rows as sample_from_rows
from coverage_gen.infer.roles import Role as Role
from coverage_gen.infer.roles import TableProfile as TableProfile
from coverage_gen.infer.roles import profile_table as profile_table

__all__ = [
    "InferResult",
    "LeakageReport",
    "Role",
    "SampleTable",
    "TableProfile",
    "check_leakage",
    "draft_spec",
    "infer_spec",
    "profile_table",
    "read_sample",
    "sample_from_rows",
]
