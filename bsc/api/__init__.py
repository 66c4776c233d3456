"""The JSON API under /api/v1/: organization-scoped resources, session and personal-token auth."""
