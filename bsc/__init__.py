"""Project package and core app: organizations, members, org units, scorecards and tenancy."""

from bsc.project.celery import app as celery_app

__all__ = ["celery_app"]
