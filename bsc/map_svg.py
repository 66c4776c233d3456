"""Server-side SVG of a strategy map: the same bands, cards and arrows the browser editor draws
(static/js/strategy_map.js uses the same geometry), for download, print and pages without JavaScript.
Built as an ElementTree, which quotes every name it carries (never an f-string of markup)."""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET

from bsc.statuses import STATUS_COLOURS, STATUS_INK, STATUS_LABELS, STATUS_SHAPES, STATUSES

# Geometry shared with static/js/strategy_map.js (keep the two in step).
LABEL_WIDTH = 150
MAP_WIDTH = 1350
BAND_HEIGHT = 160
CARD_WIDTH = 200
CARD_HEIGHT = 70
LEGEND_HEIGHT = 44
BAND_FILLS = ["#eef3fb", "#f4f7ee", "#fbf4ea", "#f3eef8"]
# What XML 1.0 forbids in a document (its `Char` production): most C0 controls, surrogates, U+FFFE/U+FFFF.
_NOT_XML = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def card_box(objective: dict, band_top: dict[int, int]) -> tuple[int, int]:
    """Top-left corner of an objective's card on the whole map."""
    x = LABEL_WIDTH + min(max(objective["x"], 0), MAP_WIDTH - LABEL_WIDTH - CARD_WIDTH)
    y = band_top[objective["perspective"]] + min(max(objective["y"], 0), BAND_HEIGHT - CARD_HEIGHT)
    return x, y


def _edge_point(box: tuple[int, int], toward: tuple[float, float]) -> tuple[float, float]:
    """Where the line from the card's centre toward a point leaves the card's rectangle."""
    cx, cy = box[0] + CARD_WIDTH / 2, box[1] + CARD_HEIGHT / 2
    dx, dy = toward[0] - cx, toward[1] - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min(
        (CARD_WIDTH / 2) / abs(dx) if dx else float("inf"),
        (CARD_HEIGHT / 2) / abs(dy) if dy else float("inf"),
    )
    return cx + dx * scale, cy + dy * scale


def arrow_points(source_box, target_box) -> tuple[float, float, float, float]:
    s_centre = (source_box[0] + CARD_WIDTH / 2, source_box[1] + CARD_HEIGHT / 2)
    t_centre = (target_box[0] + CARD_WIDTH / 2, target_box[1] + CARD_HEIGHT / 2)
    x1, y1 = _edge_point(source_box, t_centre)
    x2, y2 = _edge_point(target_box, s_centre)
    return round(x1, 1), round(y1, 1), round(x2, 1), round(y2, 1)


def _xml_text(value: object) -> str:
    """A value as XML character data: characters XML 1.0 does not allow (most control characters, which a
    name may hold) are dropped, so the document stays well-formed; quoting is ElementTree's."""
    return _NOT_XML.sub("", str(value))


def _element(parent: ET.Element | None, tag: str, text: object = None, **attrs: object) -> ET.Element:
    """One SVG element; every attribute value and text goes through `_xml_text`, and ElementTree quotes them
    when the tree is written (`"`, `<`, `&` included), so no name can close an attribute or open a tag."""
    values = {name.rstrip("_").replace("_", "-"): _xml_text(value) for name, value in attrs.items()}
    element = ET.Element(tag, values) if parent is None else ET.SubElement(parent, tag, values)
    if text is not None:
        element.text = _xml_text(text)
    return element


def _legend(svg: ET.Element, top: int) -> None:
    """The four statuses along the bottom: the card's colour bar, the shape and the word."""
    legend = _element(svg, "g", class_="legend", transform=f"translate(0 {top})")
    _element(legend, "rect", x=0, y=0, width=MAP_WIDTH, height=LEGEND_HEIGHT, fill="#ffffff", stroke="#d9dde5")
    _element(legend, "text", "Status:", x=12, y=27, font_size=14, fill="#1d2330")
    for index, status in enumerate(STATUSES):
        x = 80 + index * 150
        colour = STATUS_COLOURS[status]
        _element(legend, "rect", x=x, y=12, width=8, height=20, rx=3, fill=colour)
        shown = f"{STATUS_SHAPES[status]} {STATUS_LABELS[status]}"
        _element(legend, "text", shown, x=x + 14, y=27, font_size=14, fill="#1d2330")


def render(strategy_map: dict, *, title: str = "", period: str = "", legend: bool = False) -> str:
    """The map (as built by bsc.selectors.strategy_map) as a standalone SVG document; `period` (its label) is
    written at the top right beside the title, and `legend` adds the statuses' colours, shapes and words at the
    bottom (the export has both; the page draws its own legend in HTML)."""
    perspectives = sorted(strategy_map["perspectives"], key=lambda p: (p["order"], p["id"]))
    band_top = {p["id"]: index * BAND_HEIGHT for index, p in enumerate(perspectives)}
    offset = 40 if title or period else 0
    bands_height = max(len(perspectives), 1) * BAND_HEIGHT
    height = offset + bands_height + (LEGEND_HEIGHT if legend else 0)
    label = " · ".join(part for part in (title, period) if part)
    svg = _element(
        None, "svg", xmlns="http://www.w3.org/2000/svg", viewBox=f"0 0 {MAP_WIDTH} {height}", width=MAP_WIDTH,
        height=height, font_family="Helvetica, Arial, sans-serif", role="img", aria_label=title or "Strategy map",
    )  # fmt: skip
    if period:  # the accessible name stays the title; the description says which period the colours are for
        _element(svg, "desc", f"{label}: objectives coloured by their status for {period}.")
    marker = _element(
        _element(svg, "defs"), "marker", id="arrowhead", viewBox="0 0 10 10", refX=10, refY=5, markerWidth=8,
        markerHeight=8, orient="auto-start-reverse",
    )  # fmt: skip
    _element(marker, "path", d="M 0 0 L 10 5 L 0 10 z", fill="#44516b")
    if title:
        _element(svg, "text", title, x=12, y=27, font_size=20, font_weight="bold", fill="#1d2330")
    if period:
        _element(
            svg, "text", period, class_="period", x=MAP_WIDTH - 12, y=27, text_anchor="end", font_size=18,
            font_weight="bold", fill="#1d2330",
        )  # fmt: skip
    if legend:
        _legend(svg, offset + bands_height)
    layer = _element(svg, "g", transform=f"translate(0 {offset})")
    for index, p in enumerate(perspectives):
        top = band_top[p["id"]]
        band = _element(layer, "g", class_="band", data_perspective=p["id"])
        _element(
            band, "rect", x=0, y=top, width=MAP_WIDTH, height=BAND_HEIGHT, fill=BAND_FILLS[index % len(BAND_FILLS)],
            stroke="#d9dde5",
        )  # fmt: skip
        _element(band, "text", p["name"], x=12, y=top + 26, font_size=15, font_weight="bold", fill="#33415c")
    boxes = {o["id"]: card_box(o, band_top) for o in strategy_map["objectives"] if o["perspective"] in band_top}
    for link in strategy_map["links"]:
        if link["source"] in boxes and link["target"] in boxes:
            x1, y1, x2, y2 = arrow_points(boxes[link["source"]], boxes[link["target"]])
            _element(
                layer, "line", class_="link", data_link=link["id"], x1=x1, y1=y1, x2=x2, y2=y2, stroke="#44516b",
                stroke_width=2, marker_end="url(#arrowhead)",
            )  # fmt: skip
    for o in strategy_map["objectives"]:
        if o["id"] not in boxes:
            continue
        x, y = boxes[o["id"]]
        status = o.get("status") if o.get("status") in STATUS_COLOURS else "grey"
        colour = STATUS_COLOURS[status]
        card = _element(layer, "g", class_="objective", data_objective=o["id"])
        _element(
            card, "rect", x=x, y=y, width=CARD_WIDTH, height=CARD_HEIGHT, rx=10, fill="#ffffff", stroke=colour,
            stroke_width=3,
        )  # fmt: skip
        _element(card, "rect", x=x, y=y, width=8, height=CARD_HEIGHT, rx=3, fill=colour)
        text = _element(card, "text", text_anchor="middle", font_size=13, fill="#1d2330")
        lines = textwrap.wrap(_xml_text(o["name"]), 24)[:3] or [""]
        first = y + CARD_HEIGHT / 2 - (len(lines) - 1) * 8 + 5
        for i, line in enumerate(lines):
            _element(text, "tspan", line, x=x + CARD_WIDTH / 2, y=first + i * 16)
        if legend:  # the status's shape in the card's corner, so the colour is never the only sign
            _element(
                card, "text", STATUS_SHAPES[status], class_="status-shape", x=x + CARD_WIDTH - 12, y=y + 17,
                text_anchor="middle", font_size=13, fill=STATUS_INK[status],
            )  # fmt: skip
            if o.get("score_text"):  # and the score beside it, as the page shows it
                _element(
                    card, "text", o["score_text"], class_="score-text", x=x + CARD_WIDTH - 22, y=y + 17,
                    text_anchor="end", font_size=12, font_weight=600, fill=STATUS_INK[status],
                )  # fmt: skip
    return ET.tostring(svg, encoding="unicode", short_empty_elements=True)
