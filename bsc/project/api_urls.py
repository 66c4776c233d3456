"""API routes: /api/v1/organizations/ and /api/v1/o/<org_slug>/<resource>/; any other path under /api/v1/ ending in
a slash is a JSON 404 (as the schema declares), not the HTML page."""

from django.http import JsonResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.routers import SimpleRouter

from attachments import api as attachments_api
from bsc.api import maps, views
from bsc.project import api_dashboard
from coaching import api as coaching_api
from coaching import api_review_packs
from comments import api as comments_api
from kpis import api as kpi_api
from kpis import api_checks, api_evidence, api_explain, api_heat_map, api_period_close, api_scores

router = SimpleRouter(use_regex_path=False)
router.register("members", views.MemberViewSet, basename="api_member")
router.register("units", views.OrgUnitViewSet, basename="api_org_unit")
router.register("scorecards", maps.ScorecardViewSet, basename="api_scorecard")
router.register("perspectives", maps.PerspectiveViewSet, basename="api_perspective")
router.register("objectives", maps.ObjectiveViewSet, basename="api_objective")
router.register("links", maps.LinkViewSet, basename="api_link")
router.register("initiatives", maps.InitiativeViewSet, basename="api_initiative")
router.register("kpis", kpi_api.KpiViewSet, basename="api_kpi")
router.register("targets", kpi_api.TargetViewSet, basename="api_target")
router.register("measurements", kpi_api.MeasurementViewSet, basename="api_measurement")
router.register("period-closes", api_period_close.PeriodCloseViewSet, basename="api_period_close")
router.register("sessions", coaching_api.SessionViewSet, basename="api_session")
router.register("action-items", coaching_api.ActionItemViewSet, basename="api_action_item")
router.register("cadences", coaching_api.CadenceViewSet, basename="api_cadence")

org_patterns = [
    path("", views.OrganizationDetailApi.as_view(), name="api_organization"),
    path("scores/", api_scores.ScoresApi.as_view(), name="api_scores"),
    path("heat-map/", api_heat_map.HeatMapApi.as_view(), name="api_heat_map"),
    path("dashboard/", api_dashboard.DashboardApi.as_view(), name="api_dashboard"),
    path("scores/explain/", api_explain.ScoreExplainApi.as_view(), name="api_score_explain"),
    path("kpis/<int:pk>/forecast/", api_scores.KpiForecastApi.as_view(), name="api_kpi_forecast"),
    path("checks/", api_checks.ChecksApi.as_view(), name="api_checks"),
    path("links/evidence/", api_evidence.MapEvidenceApi.as_view(), name="api_map_evidence"),
    path("links/<int:pk>/evidence/", api_evidence.LinkEvidenceApi.as_view(), name="api_link_evidence"),
    path("comments/<str:kind>/<int:target_id>/", comments_api.CommentListApi.as_view(), name="api_comments"),
    path("comments/<int:pk>/", comments_api.CommentDetailApi.as_view(), name="api_comment"),
    path("review-packs/", api_review_packs.ReviewPackListApi.as_view(), name="api_review_packs"),
    path("review-packs/<int:pk>/", api_review_packs.ReviewPackDetailApi.as_view(), name="api_review_pack"),
    path(
        "review-packs/<int:pk>/<str:file>/", api_review_packs.ReviewPackFileApi.as_view(), name="api_review_pack_file"
    ),
    *attachments_api.urls,
    *router.urls,
]


@csrf_exempt  # it changes nothing; a POST gets the same JSON 404 as a GET
def not_found(request, *args, **kwargs):
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("organizations/", views.OrganizationListApi.as_view(), name="api_organizations"),
    path("o/<slug:org_slug>/", include(org_patterns)),
    # Ends in a slash, so a path without one is still redirected to its slashed form when that exists.
    re_path(r"^.*/$", not_found),
]
