"""cover layer."""
