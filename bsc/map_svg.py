"""Server-side SVG of a strategy map: the same bands, cards and arrows the browser editor draws
(static/js/strategy_map.js uses the same geometry), for download, print and pages without JavaScript."""

from __future__ import annotations

import textwrap
from xml.sax.saxutils import escape

# Geometry shared with static/js/strategy_map.js (keep the two in step).
LABEL_WIDTH = 150
MAP_WIDTH = 1350
BAND_HEIGHT = 160
CARD_WIDTH = 200
CARD_HEIGHT = 70
STATUS_COLOURS = {"green": "#1e8a4c", "amber": "#c98a00", "red": "#c0392b", "grey": "#9aa1ad"}
BAND_FILLS = ["#eef3fb", "#f4f7ee", "#fbf4ea", "#f3eef8"]


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


def render(strategy_map: dict, *, title: str = "") -> str:
    """The map (as built by bsc.selectors.strategy_map) as a standalone SVG document."""
    perspectives = sorted(strategy_map["perspectives"], key=lambda p: (p["order"], p["id"]))
    band_top = {p["id"]: index * BAND_HEIGHT for index, p in enumerate(perspectives)}
    height = max(len(perspectives), 1) * BAND_HEIGHT + (40 if title else 0)
    offset = 40 if title else 0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {MAP_WIDTH} {height}" '
        f'width="{MAP_WIDTH}" height="{height}" font-family="Helvetica, Arial, sans-serif" role="img" '
        f'aria-label="{escape(title or "Strategy map")}">',
        '<defs><marker id="arrowhead" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#44516b"/></marker></defs>',
    ]
    if title:
        parts.append(f'<text x="12" y="27" font-size="20" font-weight="bold" fill="#1d2330">{escape(title)}</text>')
    parts.append(f'<g transform="translate(0 {offset})">')
    for index, p in enumerate(perspectives):
        top = band_top[p["id"]]
        parts.append(
            f'<g class="band" data-perspective="{p["id"]}"><rect x="0" y="{top}" width="{MAP_WIDTH}" '
            f'height="{BAND_HEIGHT}" fill="{BAND_FILLS[index % len(BAND_FILLS)]}" stroke="#d9dde5"/>'
            f'<text x="12" y="{top + 26}" font-size="15" font-weight="bold" fill="#33415c">{escape(p["name"])}</text></g>'
        )
    boxes = {o["id"]: card_box(o, band_top) for o in strategy_map["objectives"] if o["perspective"] in band_top}
    for link in strategy_map["links"]:
        if link["source"] in boxes and link["target"] in boxes:
            x1, y1, x2, y2 = arrow_points(boxes[link["source"]], boxes[link["target"]])
            parts.append(
                f'<line class="link" data-link="{link["id"]}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" '
                'stroke="#44516b" stroke-width="2" marker-end="url(#arrowhead)"/>'
            )
    for o in strategy_map["objectives"]:
        if o["id"] not in boxes:
            continue
        x, y = boxes[o["id"]]
        colour = STATUS_COLOURS.get(o.get("status") or "grey", STATUS_COLOURS["grey"])
        lines = textwrap.wrap(o["name"], 24)[:3] or [""]
        first = y + CARD_HEIGHT / 2 - (len(lines) - 1) * 8 + 5
        text = "".join(
            f'<tspan x="{x + CARD_WIDTH / 2}" y="{first + i * 16}">{escape(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        parts.append(
            f'<g class="objective" data-objective="{o["id"]}"><rect x="{x}" y="{y}" width="{CARD_WIDTH}" '
            f'height="{CARD_HEIGHT}" rx="10" fill="#ffffff" stroke="{colour}" stroke-width="3"/>'
            f'<rect x="{x}" y="{y}" width="8" height="{CARD_HEIGHT}" rx="3" fill="{colour}"/>'
            f'<text text-anchor="middle" font-size="13" fill="#1d2330">{text}</text></g>'
        )
    parts.append("</g></svg>")
    return "".join(parts)
