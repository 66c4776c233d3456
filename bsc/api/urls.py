"""API routes: /api/v1/organizations/ and /api/v1/o/<org_slug>/<resource>/."""

urlpatterns: list = []
