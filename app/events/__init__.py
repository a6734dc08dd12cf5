"""Domain events: what happened, written in the same transaction as the change (a
transactional outbox), and handed to the consumers the features registered once it is
committed. Outbound webhooks, Slack pings and insights read from here."""
