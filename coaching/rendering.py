"""Markdown of session notes, wins and challenges to HTML that is safe to show: rendered with `markdown`, then
sanitised with `nh3` (scripts, event handlers and javascript: links are removed, never executed). A link whose
scheme is not allowed is shown as its plain text, not as a link that leads nowhere."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import markdown as _markdown
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto"}

# What a browser reads as the scheme: it ignores ASCII whitespace and control characters anywhere in a URL.
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")


def link_allowed(href: str) -> bool:
    """Whether a link keeps its target: a relative one, or one of URL_SCHEMES."""
    match = _SCHEME.match(_IGNORED_IN_URL.sub("", href or ""))
    return match is None or match.group(1).lower() in URL_SCHEMES


class _PlainTextForUnsafeLinks(Treeprocessor):
    """Turns a Markdown link with a refused scheme into a <span>, which the sanitiser then drops for its text."""

    def run(self, root: ET.Element) -> None:
        for element in root.iter("a"):
            if not link_allowed(element.get("href", "")):
                element.tag = "span"
                element.attrib.clear()


class _SafeLinks(Extension):
    def extendMarkdown(self, md) -> None:  # noqa: N802 (the markdown package's name)
        md.treeprocessors.register(_PlainTextForUnsafeLinks(md), "plain_text_for_unsafe_links", 0)


def markdown_html(text: str) -> SafeString:
    html = _markdown.markdown(text or "", extensions=["tables", "sane_lists", _SafeLinks()], output_format="html")
    return mark_safe(  # noqa: S308 (sanitised by nh3 just above)
        nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}}, url_schemes=URL_SCHEMES)
    )
