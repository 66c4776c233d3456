"""Pages of the comments app (organization-scoped, under /o/<slug>/)."""

from django.urls import path

from comments import views

urlpatterns = [
    path("comments/<str:kind>/<int:pk>/", views.comment_thread, name="comment_thread"),
    path("comments/<int:pk>/edit/", views.comment_edit, name="comment_edit"),
    path("comments/<int:pk>/delete/", views.comment_delete, name="comment_delete"),
]
