"""``python -m coverage_gen`` runs the CLI."""

from coverage_gen.cli import main

main()
