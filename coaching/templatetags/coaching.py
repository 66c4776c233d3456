"""Template filters of the coaching pages."""

from django import template

from coaching.rendering import markdown_html

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    """Markdown rendered and sanitised (safe to output)."""
    return markdown_html(text)
