"""Every email Backstop sends, stored with its rendered body (the outbox)."""
