"""Root URL configuration: accounts, organization-scoped pages under /o/<slug>/, and the API."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from bsc.project import dashboard, health, pages
from bsc.views import accounts, api_docs, favicon, home, maps
from coaching.views_calendar import calendar_feed_ics

org_patterns = [
    path("", pages.org_overview, name="org_overview"),
    path("dashboard/", dashboard.organization_dashboard, name="dashboard"),
    path("dashboard/<int:unit_id>/", dashboard.unit_dashboard, name="dashboard_unit"),
    path("dashboard/<int:unit_id>/rows/<int:parent_id>/", dashboard.dashboard_rows, name="dashboard_rows"),
    path("dashboard/<int:unit_id>/likely/", dashboard.dashboard_likely, name="dashboard_likely"),
    path("map/", maps.strategy_map_index, name="strategy_map_index"),
    path("map/<int:unit_id>/", maps.strategy_map_page, name="strategy_map"),
    path("map/<int:unit_id>.svg", maps.strategy_map_svg, name="strategy_map_svg"),
    path("map/<int:unit_id>/weights/", maps.strategy_map_weights, name="strategy_map_weights"),
    path("admin/", include("bsc.views.admin_urls")),
    path("", include("kpis.urls")),
    path("", include("coaching.urls")),
    path("", include("comments.urls")),
    path("", include("attachments.urls")),
]

# Django's admin logs in through the product's log-in page, so the second factor applies there too.
admin.site.login = accounts.django_admin_login

urlpatterns = [
    path("", home.home, name="home"),
    path("switch/", home.switch_organization, name="switch_organization"),
    path("accounts/", include("bsc.views.account_urls")),
    path("o/<slug:org_slug>/", include(org_patterns)),
    path("calendar/<str:token>.ics", calendar_feed_ics, name="calendar_feed"),
    path("api/v1/", include("bsc.project.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", api_docs.api_docs, name="api_docs"),
    path("api/redoc/", api_docs.api_redoc, name="api_redoc"),
    path("django-admin/", admin.site.urls),
    path("favicon.ico", favicon.favicon_ico),
    path("healthz", health.healthz, name="healthz"),
]

handler400 = "bsc.views.errors.bad_request"
handler403 = "bsc.views.errors.permission_denied"
handler404 = "bsc.views.errors.page_not_found"
handler500 = "bsc.views.errors.server_error"
