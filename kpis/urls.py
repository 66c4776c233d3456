"""Organization-scoped KPI pages (under /o/<slug>/)."""

from django.urls import path

from kpis import (
    views,
    views_checks,
    views_data_entry,
    views_explain,
    views_import,
    views_period_close,
    views_review,
    views_scorecard,
)

urlpatterns = [
    path("scorecards/", views_scorecard.scorecard_index, name="scorecard_index"),
    path("scorecards/cascade/", views_scorecard.scorecard_cascade, name="scorecard_cascade"),
    path("scorecards/<int:unit_id>/", views_scorecard.scorecard_detail, name="scorecard_detail"),
    path("scores/recomputing/", views_scorecard.scores_recomputing, name="scores_recomputing"),
    path("scores/recomputing/<int:unit_id>/", views_scorecard.scores_recomputing, name="scores_recomputing_unit"),
    path("scores/explain/", views_explain.score_explain, name="score_explain"),
    path("kpis/", views.kpi_index, name="kpi_index"),
    path("kpis/new/", views.kpi_create, name="kpi_create"),
    path("kpis/<int:pk>/", views.kpi_detail, name="kpi_detail"),
    path("kpis/<int:pk>/edit/", views.kpi_edit, name="kpi_edit"),
    path("kpis/<int:pk>/archive/", views.kpi_archive, name="kpi_archive"),
    path("kpis/<int:pk>/restore/", views.kpi_restore, name="kpi_restore"),
    path("kpis/<int:pk>/targets/", views.kpi_targets_set, name="kpi_targets_set"),
    path("kpis/<int:pk>/targets/<int:target_pk>/recalibrate/", views.target_recalibrate, name="target_recalibrate"),
    path("kpis/<int:pk>/values/<int:measurement_pk>/approve/", views.measurement_approve, name="measurement_approve"),
    path("kpis/<int:pk>/values/<int:measurement_pk>/return/", views.measurement_return, name="measurement_return"),
    path("kpis/import/", views_import.kpi_import, name="kpi_import"),
    path("kpis/import/<int:pk>/", views_import.kpi_import_batch, name="kpi_import_batch"),
    path("kpis/import/<int:pk>/confirm/", views_import.kpi_import_confirm, name="kpi_import_confirm"),
    path("kpis/import/<int:pk>/cancel/", views_import.kpi_import_cancel, name="kpi_import_cancel"),
    path("scorecards/<int:unit_id>/export.csv", views_import.scorecard_export_csv, name="scorecard_export_csv"),
    path("scorecards/<int:unit_id>/export.xlsx", views_import.scorecard_export_xlsx, name="scorecard_export_xlsx"),
    path("kpis/review/", views_review.kpi_review, name="kpi_review"),
    path("close/<int:unit_id>/", views_period_close.period_close_page, name="period_close"),
    path("close/reopen/<int:pk>/", views_period_close.period_reopen_page, name="period_reopen"),
    path("checks/", views_checks.consistency_checklist, name="consistency_checks"),
    path("map/<int:unit_id>/evidence/", views_checks.link_evidence_table, name="link_evidence"),
    path("data-entry/", views_data_entry.data_entry, name="data_entry"),
    path("data-entry/separator/", views_data_entry.data_entry_separator, name="data_entry_separator"),
    path("data-entry/<int:kpi_id>/", views_data_entry.data_entry_row_save, name="data_entry_row_save"),
    path("data-entry/<int:kpi_id>/status/", views_data_entry.data_entry_status, name="data_entry_status"),
]
