"""disputes (being written)."""
