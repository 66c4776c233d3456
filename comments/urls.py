"""Pages of the comments app (organization-scoped, under /o/<slug>/)."""

urlpatterns: list = []
