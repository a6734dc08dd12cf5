"""stripejs (being written)."""
