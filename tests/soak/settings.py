"""The product's settings for the soak tests' servers: as in production (DEBUG=false), except that static files
come from the plain storage, since the soak runs no collectstatic (the pages' assets are not fetched)."""

from bsc.project.settings import *  # noqa: F403

STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
