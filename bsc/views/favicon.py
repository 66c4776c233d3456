"""/favicon.ico: browsers ask for it on pages without a <link rel="icon"> (a JSON answer, an SVG download);
it points to the one icon, static/favicon.svg, instead of answering 404."""

from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


@require_GET
@cache_control(max_age=86400, public=True)
def favicon_ico(request):
    # Not permanent: the static name carries a content hash in production and changes with the icon.
    return redirect(static("favicon.svg"))
