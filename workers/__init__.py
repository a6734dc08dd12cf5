"""Celery worker and beat: thin tasks that load by id and call a service."""
