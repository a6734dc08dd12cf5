"""Insights: what Backstop earned each merchant (DESIGN §9)."""
