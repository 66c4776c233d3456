"""Organization-scoped coaching pages (under /o/<slug>/)."""

from django.urls import path

from coaching import views

urlpatterns = [
    path("coaching/", views.coaching_index, name="coaching_index"),
]
