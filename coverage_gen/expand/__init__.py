"""expand layer."""
