"""The REST API v1 and the embed endpoints merchants call from their own pages."""
