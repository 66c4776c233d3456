"""Helpers the browser tests of the strategy-map editor share: finding a card, waiting for the API, dragging."""


def card(page, name: str):
    return page.locator(f'#strategy-map .objective[aria-label="{name}"]')


def saved(page) -> None:
    """Wait until every change sent to the API has been answered."""
    page.wait_for_selector('#strategy-map[data-pending="0"]', state="attached")


def centre(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=10)
    page.mouse.up()
    saved(page)
