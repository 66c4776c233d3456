"""The four statuses of a stored score as every page and export shows them: a word and a shape beside the
colour, never colour alone (kpis' scorecard lights, the strategy map's legend and its SVG export)."""

STATUSES = ("green", "amber", "red", "grey")
STATUS_LABELS = {"green": "On track", "amber": "At risk", "red": "Off track", "grey": "No data"}
STATUS_SHAPES = {"green": "●", "amber": "▲", "red": "■", "grey": "○"}  # the shape tells the status apart too
# The map's card colours (static/js/strategy_map.js has the same four).
STATUS_COLOURS = {"green": "#1e8a4c", "amber": "#c98a00", "red": "#c0392b", "grey": "#9aa1ad"}
# A status's shape or word as text on white, dark enough to read (4.5:1).
STATUS_INK = {"green": "#197a42", "amber": "#865c00", "red": "#c0392b", "grey": "#5b6475"}
