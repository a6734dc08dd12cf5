"""The audit log: every staff action in the back office and on-call commands."""
