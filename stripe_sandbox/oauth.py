"""oauth (being written)."""
