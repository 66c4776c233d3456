"""Pages of the attachments app (organization-scoped, under /o/<slug>/)."""

from django.urls import path

from attachments import views

urlpatterns = [
    path("files/<str:kind>/<int:pk>/", views.evidence_panel, name="evidence_panel"),
    path("files/<str:kind>/<int:pk>/add/", views.evidence_upload, name="evidence_upload"),
    path("files/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("files/<int:pk>/remove/", views.evidence_remove, name="evidence_remove"),
]
