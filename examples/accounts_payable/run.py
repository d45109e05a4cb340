"""Generate this example's records and coverage.json into ./out (or the folder in argv[1])."""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
out = Path(sys.argv[1]) if len(sys.argv) > 1 else here / "out"
command = [sys.executable, "-m", "coverage_gen.cli", "generate", str(here / "spec.yaml"), "-o", str(out)]
sys.exit(subprocess.run(command, check=False).returncode)
