"""The accessibility check of the browser tests: axe-core (vendored in tests/vendor/axe-core/) runs in the page
and a test fails on its serious or critical violations, listed one per element with the rule, what it asks for
and the element's selector.

axe is put into the page with `page.evaluate` of the file's text, not `page.add_script_tag`: the latter adds an
inline <script>, which the enforced Content-Security-Policy (script-src 'self') refuses and the browser fixtures
report as a violation. A script evaluated through the DevTools protocol is not subject to the page's CSP, so the
policy under test stays exactly the one users get (no `bypass_csp`)."""

from __future__ import annotations

from pathlib import Path

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")

_RUN_AXE = """async (options) => {
  const results = await window.axe.run(document, options);
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({impact: n.impact, target: n.target.flat().join(" "), summary: n.failureSummary})),
  }));
}"""


def axe_violations(page, *, impacts: tuple[str, ...] = FAILING_IMPACTS) -> list[dict]:
    """axe's violations of the page as it stands, those of the given impacts only."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text())
    violations = page.evaluate(_RUN_AXE, {"resultTypes": ["violations"]})
    return [violation for violation in violations if violation["impact"] in impacts]


def describe(violations: list[dict], where: str = "") -> str:
    """The violations, readable: one block per rule, one line per element."""
    lines = []
    for violation in violations:
        lines.append(f"{where}[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}  -- {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page, name: str = "") -> None:
    """Fail with a readable list when axe finds a serious or critical violation on the page."""
    violations = axe_violations(page)
    assert not violations, f"accessibility violations on {name or page.url}:\n" + describe(violations)


_STICKING_OUT = """(width) => {
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.classList.length ? "." + Array.from(el.classList).join(".") : "");
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.right <= width + 0.5 || box.width === 0) continue;
    if (el.parentElement && el.parentElement.getBoundingClientRect().right > width + 0.5) continue;  // its parent is reported
    let clipped = false;  // inside a frame that scrolls or clips it: it does not widen the page
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") { clipped = true; break; }
    }
    if (clipped) continue;
    let path = [], node = el;
    while (node && node !== document.body && path.length < 4) { path.unshift(describe(node)); node = node.parentElement; }
    out.push(`${path.join(" > ")} (right edge ${Math.round(box.right)}px)`);
  }
  return out.slice(0, 8);
}"""


def page_width_problem(page, width: int) -> str:
    """'' when the page does not scroll sideways at `width`; otherwise how wide it is and which elements stick
    out (the outermost ones)."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width <= width:
        return ""
    sticking_out = page.evaluate(_STICKING_OUT, width)
    return f"scrolls sideways: {scroll_width}px wide; sticking out: " + "; ".join(sticking_out)
