"""The only package that talks to Stripe: clients, the connection, webhooks, the mirror."""
