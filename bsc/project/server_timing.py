"""Server-Timing headers, so a slow page explains itself in the browser's developer tools (Network, Timing).

Every response gets `Server-Timing: db;dur=…;desc="N queries", render;dur=…, total;dur=…` (milliseconds):
- db: the time spent in SQL on the default connection and the number of statements;
- render: the time spent rendering templates (outermost renders only, so an include is not counted twice;
  queries that templates run lazily are counted in both db and render);
- total: from the first middleware to the response.

On in DEBUG and off in production unless SERVER_TIMING=true (the figures tell a stranger how heavy a page is).
The render time comes from a template backend that subclasses Django's (settings.TEMPLATES), the supported
place to wrap rendering; it costs one context-variable read per render when timing is off.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections
from django.template import TemplateDoesNotExist
from django.template.backends.django import DjangoTemplates as _DjangoTemplates
from django.template.backends.django import Template as _Template
from django.template.backends.django import reraise


@dataclass
class _Timing:
    db_s: float = 0.0
    queries: int = 0
    render_s: float = 0.0
    render_depth: int = 0


_current: ContextVar[_Timing | None] = ContextVar("server_timing", default=None)


class _TimedTemplate(_Template):
    def render(self, context=None, request=None):
        timing = _current.get()
        if timing is None or timing.render_depth:
            return super().render(context, request)
        timing.render_depth += 1
        start = time.perf_counter()
        try:
            return super().render(context, request)
        finally:
            timing.render_depth -= 1
            timing.render_s += time.perf_counter() - start


class DjangoTemplates(_DjangoTemplates):
    """Django's template backend, its templates timed for the Server-Timing header."""

    def from_string(self, template_code):
        return _TimedTemplate(self.engine.from_string(template_code), self)

    def get_template(self, template_name):
        try:
            return _TimedTemplate(self.engine.get_template(template_name), self)
        except TemplateDoesNotExist as exc:
            reraise(exc, self)


def _timed_sql(timing: _Timing):
    def wrapper(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timing.db_s += time.perf_counter() - start
            timing.queries += 1

    return wrapper


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


class ServerTimingMiddleware:
    def __init__(self, get_response):
        if not settings.SERVER_TIMING:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        timing = _Timing()
        token = _current.set(timing)
        start = time.perf_counter()
        try:
            with connections["default"].execute_wrapper(_timed_sql(timing)):
                response = self.get_response(request)
        finally:
            _current.reset(token)
        total = time.perf_counter() - start
        queries = f"{timing.queries} {'query' if timing.queries == 1 else 'queries'}"
        response.headers.setdefault(
            "Server-Timing",
            f'db;dur={_ms(timing.db_s)};desc="{queries}", render;dur={_ms(timing.render_s)};desc="templates", '
            f'total;dur={_ms(total)};desc="server"',
        )
        return response
