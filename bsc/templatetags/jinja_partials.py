"""`{% jinja_partial "app/jinja/name.html" key=value ... %}`: a Jinja2 partial inside a Django template
(bsc/jinja_partials.py), for the hot grids of a few pages."""

from django import template

from bsc.jinja_partials import render_partial, render_partial_memoized

register = template.Library()


@register.simple_tag
def jinja_partial(name: str, **context):
    return render_partial(name, **context)


@register.simple_tag
def jinja_partial_memoized(name: str, **context):
    """A partial whose hashable values many requests share, rendered once per process for them (bsc/jinja_partials.py)."""
    return render_partial_memoized(name, **context)
