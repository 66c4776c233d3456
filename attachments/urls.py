"""Pages of the attachments app (organization-scoped, under /o/<slug>/)."""

urlpatterns: list = []
