"""Merchants' data rights: export everything we hold about a workspace, purge a
workspace that left, and erase one customer's personal data on request (docs/data-rights.md).

``policy`` holds the pure rules (which columns are secrets, how text is scrubbed),
``catalogue`` finds the tenant tables from the models' metadata (so a new table is
covered without anyone remembering to add it), and ``export``, ``purge`` and
``erasure`` are the services (they flush, the caller commits)."""
