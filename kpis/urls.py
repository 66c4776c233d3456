"""Organization-scoped KPI pages (under /o/<slug>/)."""

from django.urls import path

from kpis import views

urlpatterns = [
    path("scorecards/", views.scorecard_index, name="scorecard_index"),
    path("kpis/", views.kpi_index, name="kpi_index"),
    path("data-entry/", views.data_entry, name="data_entry"),
]
