"""engine layer: the covering-array engine on integers only (lowering, analysis, greedy, local search, CP-SAT)."""
