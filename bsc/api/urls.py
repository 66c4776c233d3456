"""API routes: /api/v1/organizations/ and /api/v1/o/<org_slug>/<resource>/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from bsc.api import views

router = SimpleRouter(use_regex_path=False)
router.register("members", views.MemberViewSet, basename="api_member")
router.register("units", views.OrgUnitViewSet, basename="api_org_unit")

org_patterns = [
    path("", views.OrganizationDetailApi.as_view(), name="api_organization"),
    *router.urls,
]

urlpatterns = [
    path("organizations/", views.OrganizationListApi.as_view(), name="api_organizations"),
    path("o/<slug:org_slug>/", include(org_patterns)),
]
