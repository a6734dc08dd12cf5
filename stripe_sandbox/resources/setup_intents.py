"""setup_intents (being written)."""
