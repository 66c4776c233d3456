"""`{% jinja_partial "app/jinja/name.html" key=value ... %}`: a Jinja2 partial inside a Django template
(bsc/jinja_partials.py), for the hot grids of a few pages."""

from django import template

from bsc.jinja_partials import render_partial

register = template.Library()


@register.simple_tag
def jinja_partial(name: str, **context):
    return render_partial(name, **context)
