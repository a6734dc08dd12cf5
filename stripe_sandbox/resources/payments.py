"""payments (being written)."""
