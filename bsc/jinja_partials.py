"""Jinja2 for the few hot partials that render hundreds of rows per page (the scorecard grid, the organization
overview's unit tree): the same markup as the Django template language would give, several times faster
(DESIGN.md section 9). Everything else stays in Django templates; a partial is rendered from one with
`{% load jinja_partials %}{% jinja_partial "app/jinja/name.html" key=value ... %}` (bsc/templatetags), so its
time counts in the page's Server-Timing render figure.

Partials live under templates/ in a `jinja/` folder, take only the values passed to them (no request, no
context processors: links and display values are prepared in Python), and escape what they print like Django
does (autoescape on; an undefined name is an error rather than an empty string)."""

from __future__ import annotations

from functools import cache, lru_cache

import jinja2
from django.conf import settings
from markupsafe import Markup


@cache
def environment() -> jinja2.Environment:
    directories = [str(directory) for template in settings.TEMPLATES for directory in template.get("DIRS", [])]
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directories),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=settings.DEBUG,  # templates edited in development are picked up; production compiles once
    )


def render_partial(name: str, **context) -> Markup:
    """The partial `name` rendered with `context`, as markup that Django templates print unescaped."""
    return Markup(environment().get_template(name).render(context))


def render_partial_memoized(name: str, **context) -> Markup:
    """`render_partial`, remembered per process for the last MEMOIZED inputs: for a partial whose values are all
    hashable and immutable (tuples of strings and numbers) and that many requests render alike (the organization
    overview's 1,000 units, the same for everyone until a unit or a score changes). The values themselves are the key
    and a hit compares them in full, so any change in a row renders anew; nothing to invalidate. Off in DEBUG, where
    templates are reloaded when edited."""
    if settings.DEBUG:
        return render_partial(name, **context)
    return _render_memoized(name, tuple(sorted(context.items())))


MEMOIZED = 32  # a few hundred KB each


@lru_cache(maxsize=MEMOIZED)
def _render_memoized(name: str, items: tuple) -> Markup:
    return render_partial(name, **dict(items))
