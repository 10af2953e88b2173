"""Live slides in JupyterLab: the notebooks presented with jupyterlab-slideshow's Deck.

Each test opens a copy of a notebook in JupyterLab (the server and the browser of
test_browser.py), runs what it needs and starts the Deck (the command palette's "Start Deck",
``deck:start``). On 01: an explorer's slider moves on its slide and the picture redraws (the
kernel runs behind the slides); a figure cell shows its figure, not its plotting code, with prose
and code at projection size. On 04: every step of the Deck (slide, sub-slide, fragment) fits a
1280x720 projector. That walk takes about 50 s a notebook, so the suite walks 04 only; set
``POOLING_LAB_ALL_DECKS=1`` to walk all eight notebooks (about 9 minutes). Skipped with a
one-line reason where Chromium or the test extra is missing, as test_browser.py.
"""

import os

import pytest
from test_browser import (REDRAW_S, ROOT, RUN_ALL_S, SERVER_START_S,  # noqa: F401
                          browser_ready, error_outputs, explorer_cell, lab, page, screenshots)

pytestmark = pytest.mark.slow

NOTEBOOK, CALL = "01_pooling_loops.ipynb", "explore.windows"

#: True while the Deck presents.
PRESENTING = "() => document.body.dataset.jpDeckMode === 'presenting'"


def test_live_slides_move_an_explorer_on_its_slide(lab, page, screenshots):
    page.goto(f"{lab}/lab/tree/{NOTEBOOK}?reset")
    page.wait_for_function("() => window.jupyterapp?.shell.currentWidget?.sessionContext"
                           "?.session?.kernel", timeout=SERVER_START_S * 1000)
    # The first code cell (the imports), then the explorer's cell; the index of the latter.
    index = page.evaluate("""async (call) => {
        const notebook = window.jupyterapp.shell.currentWidget.content;
        const cells = notebook.widgets;
        const imports = cells.findIndex(cell => cell.model.type === 'code');
        const explorer = cells.findIndex(
            cell => cell.model.sharedModel.getSource().includes(call));
        for (const index of [imports, explorer]) {
            notebook.activeCellIndex = index;
            await window.jupyterapp.commands.execute('notebook:run-cell');
        }
        return explorer;
    }""", CALL)
    assert index > 0
    cell = explorer_cell(page, CALL)
    picture = cell.locator(".jp-OutputArea-output img").first
    picture.wait_for(timeout=RUN_ALL_S * 1000)

    page.evaluate("() => window.jupyterapp.commands.execute('deck:start')")
    page.wait_for_function(PRESENTING, timeout=REDRAW_S * 1000)
    page.evaluate("(index) => { window.jupyterapp.shell.currentWidget.content"
                  ".activeCellIndex = index; }", index)     # the Deck shows the active cell
    stride = cell.locator(".widget-slider", has_text="stride").locator(".noUi-handle")
    stride.wait_for(state="visible", timeout=REDRAW_S * 1000)
    page.wait_for_timeout(1000)                         # let the slide transition end
    box, viewport = stride.bounding_box(), page.viewport_size
    assert 0 <= box["x"] < viewport["width"] and 0 <= box["y"] < viewport["height"], (
        f"the slider is off the slide: {box}")
    before_src = picture.get_attribute("src")
    before = page.screenshot(path=screenshots / "live_slide_before.png")

    stride.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("([cell, src]) => cell.querySelector('img').src !== src",
                           arg=[cell.element_handle(), before_src], timeout=REDRAW_S * 1000)
    page.wait_for_timeout(300)                          # let the new picture paint
    after = page.screenshot(path=screenshots / "live_slide_after.png")
    assert page.evaluate(PRESENTING), "the Deck stopped"
    assert after != before
    assert error_outputs(page) == []
    page.evaluate("() => window.jupyterapp.commands.execute('deck:stop')")


def test_the_live_deck_shows_a_figure_not_its_plotting_code(lab, page, screenshots):
    """01's longest figure cell (a picture output, tagged hide-input, so collapsed by
    ``source_hidden``) on its slide: the figure on screen, none of its code."""
    from test_browser import FINISHED
    page.goto(f"{lab}/lab/tree/{NOTEBOOK}?reset")
    page.wait_for_function("() => window.jupyterapp?.shell.currentWidget?.sessionContext"
                           "?.session?.kernel", timeout=SERVER_START_S * 1000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(FINISHED, timeout=RUN_ALL_S * 1000, polling=500)
    index = page.evaluate("""() => {
        const cells = window.jupyterapp.shell.currentWidget.content.widgets;
        let longest = -1, lines = 0;
        cells.forEach((cell, index) => {
            const tags = cell.model.getMetadata('tags') || [];
            const count = cell.model.sharedModel.getSource().split('\\n').length;
            const figure = cell.model.type === 'code' && cell.model.outputs.toJSON()
                .some(output => output.data && output.data['image/png']);
            if (figure && tags.includes('hide-input') && count > lines) {
                longest = index;
                lines = count;
            }
        });
        return longest;
    }""")
    assert index > 0
    page.evaluate("() => window.jupyterapp.commands.execute('deck:start')")
    page.wait_for_function(PRESENTING, timeout=REDRAW_S * 1000)
    page.evaluate("(index) => { window.jupyterapp.shell.currentWidget.content"
                  ".activeCellIndex = index; }", index)
    page.wait_for_timeout(1000)                         # let the slide transition end
    seen = page.evaluate("""(index) => {
        const node = window.jupyterapp.shell.currentWidget.content.widgets[index].node;
        const visible = element => element && element.getClientRects().length > 0
            && element.getBoundingClientRect().height > 0;
        const picture = node.querySelector('.jp-OutputArea-output img');
        const box = picture.getBoundingClientRect();
        return {code: visible(node.querySelector('.jp-InputArea-editor')),
                picture: visible(picture), top: box.top, bottom: box.bottom,
                height: window.innerHeight};
    }""", index)
    page.screenshot(path=screenshots / "live_deck_figure.png")
    assert seen["picture"] and not seen["code"], seen
    # Text scaled for projection by the notebook's Deck style: prose 24 px and code 20 px.
    sizes = page.evaluate("""() => {
        const notebook = window.jupyterapp.shell.currentWidget.content.node;
        const size = selector => parseFloat(getComputedStyle(
            notebook.querySelector(selector)).fontSize);
        return {prose: size('.jp-RenderedMarkdown p'), code: size('.jp-InputArea-editor .cm-content')};
    }""")
    print("live Deck text:", sizes)
    assert sizes["prose"] >= 24 and sizes["code"] >= 20, sizes
    assert 0 <= seen["top"] < seen["height"], f"the figure is off the slide: {seen}"
    page.evaluate("() => window.jupyterapp.commands.execute('deck:stop')")


#: The active cell and the height of what the Deck shows now: from the top of the first visible
#: cell of the slide to the bottom of the last (the slide's cells and fragments shown so far).
DECK_STEP = """() => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    const boxes = [...notebook.node.querySelectorAll('.jp-Cell.jp-deck-mod-visible')]
        .map(cell => cell.getBoundingClientRect()).filter(box => box.height > 0);
    return {cell: notebook.activeCellIndex, id: notebook.activeCell.model.sharedModel.getId(),
            height: Math.max(...boxes.map(box => box.bottom)) - Math.min(...boxes.map(box => box.top))};
}"""

#: The notebooks whose Deck is walked: 04 in the suite (about 50 s: a run, then ~40 steps), all
#: eight with POOLING_LAB_ALL_DECKS=1.
DECKS = (sorted(path.name for path in (ROOT / "notebooks").glob("0*.ipynb"))
         if os.environ.get("POOLING_LAB_ALL_DECKS") == "1" else ["04_backward_pooling.ipynb"])


@pytest.mark.parametrize("notebook", DECKS)
def test_every_step_of_the_live_deck_fits_1280x720(notebook, lab, page, screenshots):
    """Issue 27: a projector shows 1280x720 and the Deck does not scroll. Space walks every
    slide, sub-slide and fragment (ArrowRight skips the sub-slides); no step may be taller."""
    from test_browser import FINISHED
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{lab}/lab/tree/{notebook}?reset")
    page.wait_for_function("() => window.jupyterapp?.shell.currentWidget?.sessionContext"
                           "?.session?.kernel", timeout=SERVER_START_S * 1000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(FINISHED, timeout=RUN_ALL_S * 1000, polling=500)
    page.evaluate("() => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = 0; }")
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})   # keys go to the Deck
    page.evaluate("() => window.jupyterapp.commands.execute('deck:start')")
    page.wait_for_function(PRESENTING, timeout=REDRAW_S * 1000)
    page.wait_for_timeout(1500)                         # let the slide transition end
    steps, unchanged = [page.evaluate(DECK_STEP)], 0
    while unchanged < 2 and len(steps) < 200:           # the last step: Space moves no further
        page.keyboard.press("Space")
        page.wait_for_timeout(900)
        step = page.evaluate(DECK_STEP)
        unchanged = unchanged + 1 if step["cell"] == steps[-1]["cell"] else 0
        if not unchanged:
            steps.append(step)
    too_tall = [step for step in steps if step["height"] > 720]
    page.screenshot(path=screenshots / f"live_deck_last_step_{notebook[:2]}.png")
    assert len(steps) > 20, f"{notebook}: the Deck took only {len(steps)} steps: {steps}"
    assert not too_tall, f"{notebook}: steps taller than 720 px: {too_tall}"
    page.evaluate("() => window.jupyterapp.commands.execute('deck:stop')")
