"""Helpers the browser tests of the strategy-map editor share: finding a card, waiting for the API, dragging."""


def card(page, name: str):
    """The objective's card by its name (its accessible name adds the score when it has one)."""
    return page.locator(f'#strategy-map .objective[data-name="{name}"]')


def saved(page) -> None:
    """Wait until every change sent to the API has been answered."""
    page.wait_for_selector('#strategy-map[data-pending="0"]', state="attached")


def settled(page) -> None:
    """Wait until the map's scale and place stay put for two frames: the editor refits when its frame changes size
    (a ResizeObserver, e.g. after the details panel closes), and a drag aimed before that misses its card."""
    page.wait_for_function(
        """() => new Promise(resolve => {
            const frame = document.getElementById("strategy-map");
            const state = () => frame.dataset.scale + ":" + JSON.stringify(frame.getBoundingClientRect());
            const before = state();
            requestAnimationFrame(() => requestAnimationFrame(() => resolve(state() === before)));
        })""",
        timeout=5000,
    )


def centre(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=10)
    page.mouse.up()
    saved(page)
