"""The API's documentation pages (drf-spectacular's Swagger UI and Redoc, served from the sidecar package),
made to work under the Content-Security-Policy of bsc/project/settings.py."""

from csp.decorators import csp_update
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

# The split view loads Swagger UI's start-up script from this same URL with ?script instead of an inline
# <script>; the template links its few page styles instead of an inline <style>. Its icons are data: images.
api_docs = csp_update({"img-src": ["data:"]})(
    SpectacularSwaggerSplitView.as_view(url_name="api_schema", template_name="bsc/api_docs/swagger_ui.html")
)

# Redoc styles itself with styled-components, which writes <style> elements and style attributes, draws
# data: images and searches in a worker it starts from a blob: of its own script: this page alone allows
# those (its scripts are still only our own files). Its template loads no web fonts from another site.
api_redoc = csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["data:"], "worker-src": ["blob:"]})(
    SpectacularRedocView.as_view(url_name="api_schema", template_name="bsc/api_docs/redoc.html")
)
