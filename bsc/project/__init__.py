"""The project layer of bsc/: settings, the URL roots, the Celery app, WSGI, the embedded PostgreSQL and Redis,
`make run` and the demo seeding. It composes every app; the core domain (the rest of bsc/) never imports it
or the higher apps (docs/architecture.md)."""
