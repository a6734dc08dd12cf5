"""Operator scripts: ``flask ops ...`` (on-call commands) and ``make run``'s launcher."""
