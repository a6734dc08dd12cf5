"""Merchant pages: thin views over the domain services."""
