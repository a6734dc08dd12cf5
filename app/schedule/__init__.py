"""The one schedule every loop shares: rows with ``due_at`` and a status in the
database, claimed by the beat sweeper as leases (:mod:`.claims`); the kinds of step each
feature declares, with their executor and their re-check at the moment of effect
(:mod:`.kinds`); and the pure catch-up rules that keep overdue steps from bursting
(:mod:`.catchup`)."""
