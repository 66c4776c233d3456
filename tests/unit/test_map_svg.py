"""The strategy map's SVG (bsc.map_svg) with hostile names: it parses as XML, every name is there as text or as
the value of the attribute meant for it, and no name adds an attribute or an element."""

import xml.etree.ElementTree as ET

import pytest

from bsc import map_svg

SVG = "{http://www.w3.org/2000/svg}"
PAYLOADS = [
    'x" onload="alert(1)" y="',
    "x' onload='alert(1)' y='",
    "<script>alert(1)</script>",
    "]]><script>alert(1)</script>",
    "Sales & <b>Marketing</b>",
    "&amp; &#60; &lt;",
]
# Every attribute the map uses; a name that broke out of its quotes would add another.
ATTRIBUTES = {
    "viewBox", "width", "height", "font-family", "role", "aria-label", "id", "refX", "refY", "markerWidth",
    "markerHeight", "orient", "d", "fill", "x", "y", "font-size", "font-weight", "transform", "class",
    "data-perspective", "stroke", "rx", "data-link", "x1", "y1", "x2", "y2", "stroke-width", "marker-end",
    "data-objective", "text-anchor",
}  # fmt: skip
ELEMENTS = {"svg", "defs", "marker", "path", "text", "g", "rect", "line", "tspan"}


def a_map(name: str) -> dict:
    return {
        "perspectives": [{"id": 1, "order": 0, "name": name}, {"id": 2, "order": 1, "name": "Customer"}],
        "objectives": [
            {"id": 10, "perspective": 1, "x": 20, "y": 40, "name": name, "status": "red"},
            {"id": 11, "perspective": 2, "x": 300, "y": 40, "name": "Plain", "status": None},
        ],
        "links": [{"id": 5, "source": 10, "target": 11}],
    }


def squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("name", PAYLOADS)
def test_a_hostile_name_stays_text_and_adds_no_attribute_or_element(name):
    root = ET.fromstring(map_svg.render(a_map(name), title=f"{name}: strategy map"))

    assert root.tag == f"{SVG}svg"
    assert root.get("aria-label") == f"{name}: strategy map"
    elements = list(root.iter())
    assert {element.tag.removeprefix(SVG) for element in elements} <= ELEMENTS
    assert {attribute for element in elements for attribute in element.attrib} <= ATTRIBUTES
    texts = [element.text for element in root.iter(f"{SVG}text") if element.text]
    assert texts == [f"{name}: strategy map", name, "Customer"]  # the title, then the bands
    card = root.find(f".//{SVG}g[@data-objective='10']/{SVG}text")
    assert squeezed("".join(card.itertext())) == squeezed(name)  # wrapped over up to three lines


def test_characters_xml_does_not_allow_are_dropped_so_the_svg_still_parses():
    name = "Ops\x0b\x01 team\ufffe"
    root = ET.fromstring(map_svg.render(a_map(name), title=name))
    assert root.get("aria-label") == "Ops team"
    assert [element.text for element in root.iter(f"{SVG}text") if element.text][:2] == ["Ops team", "Ops team"]
