"""test_clocks (being written)."""
