"""The explorers in a real browser: JupyterLab, Chromium, Playwright.

For each of notebooks 01, 04 and 05 the test opens a copy in JupyterLab, runs all cells, checks
that the explorer cell shows the live widget (and not also its static picture), moves one
control, and checks that the drawn picture changes and that no cell shows an error.

Needs Debian's Chromium (``apt-get install chromium``; Playwright's own browser download is not
used) and the test extra (``pip install -e ".[test]"``). Without them the tests skip with a
one-line reason, except when ``POOLING_LAB_BROWSER_TESTS=require`` (set by ``.ci/run``): then
they fail. Screenshots go to a temporary folder whose path is printed (``pytest -s``).
"""

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

#: The notebooks with an explorer, and the explorer each one calls.
EXPLORER_NOTEBOOKS = {"01_pooling_loops.ipynb": "explore.windows",
                      "04_backward_pooling.ipynb": "explore.backward",
                      "05_convolution.ipynb": "explore.filters"}

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

#: Generous limits: a whole notebook runs in about 10 s on a quiet machine.
SERVER_START_S, RUN_ALL_S, REDRAW_S = 60, 150, 30


def missing_requirement() -> str | None:
    """Why the browser tests cannot run here, or None if they can."""
    for module in ("playwright", "jupyterlab", "ipywidgets"):
        if importlib.util.find_spec(module) is None:
            return f'{module} is not installed (pip install -e ".[test]")'
    if shutil.which("chromium") is None:
        return "Chromium is not installed (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser_ready():
    reason = missing_requirement()
    if reason is not None:
        if os.environ.get("POOLING_LAB_BROWSER_TESTS") == "require":
            pytest.fail(f"browser tests required but cannot run: {reason}")
        pytest.skip(f"browser tests skipped: {reason}")


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_settings(folder: Path) -> None:
    """Fresh JupyterLab settings: every cell kept in the page (no windowing, so that the test
    can find any cell), no news or update pop-ups."""
    settings = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False},
    }
    for name, values in settings.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab(browser_ready, tmp_path_factory):
    """A JupyterLab server on a free localhost port, serving a copy of the notebooks (JupyterLab
    autosaves what it runs); always stopped. Yields its base URL."""
    base = tmp_path_factory.mktemp("lab")
    notebooks = base / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks)
    write_settings(base / "settings")
    port = free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
           "JUPYTER_CONFIG_DIR": str(base / "config")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
         "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
         "--IdentityProvider.token=", "--ServerApp.password=",
         f"--ServerApp.root_dir={notebooks}", f"--LabApp.workspaces_dir={base / 'workspaces'}",
         f"--LabApp.user_settings_dir={base / 'settings'}", "--LabApp.news_url=",
         "--LabApp.expose_app_in_browser=True"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(base / "server.log", "w"))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start; see {base / 'server.log'}:\n"
                                + (base / "server.log").read_text()[-2000:])
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                             args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


@pytest.fixture(scope="module")
def screenshots():
    folder = Path(tempfile.mkdtemp(prefix="pooling_lab_browser_"))
    print(f"\nbrowser screenshots: {folder}")
    return folder


# In the page: the cells of the open notebook, and the one whose source calls the explorer.
OUTPUTS = ("document.querySelectorAll("
           "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output')")
FINISHED = """() => {
    // From the notebook's model, not the prompts: a collapsed cell (source_hidden) shows none.
    const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
    let code = 0;
    for (let index = 0; index < cells.length; index++) {
        const cell = cells.get(index);
        if (cell.type !== 'code') continue;
        code += 1;
        if (cell.executionCount === null || cell.executionCount === undefined) return false;
    }
    return code > 0;
}"""


# In the page, for one explorer's output at a zoom: its smallest figure text and control text as
# screen pixels (the figure's labels are 16 px in its PNG: FONT_PT points at 96 dpi), how far
# its content overflows it (scrolling) and how far its picture reaches past the output (cut).
FIT = """(output, zoom) => {
    const view = output.querySelector('.pooling-lab-explorer');
    const picture = output.querySelector('img');
    const texts = [...output.querySelectorAll('.widget-label, .widget-readout, select, button')]
        .filter(element => element.textContent.trim() || element.tagName === 'SELECT');
    const shown = picture.getBoundingClientRect(), box = output.getBoundingClientRect();
    return {figure_px: 16 * shown.width / picture.naturalWidth * zoom,
            controls_px: zoom * Math.min(...texts.map(e => parseFloat(getComputedStyle(e).fontSize))),
            overflow: view.scrollWidth - view.clientWidth,
            cut: Math.max(shown.right, view.getBoundingClientRect().right) - box.right};
}"""


def explorer_cell(page, call: str):
    """The code cell whose source contains ``call``."""
    cells = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").filter(
        has=page.locator(".jp-InputArea-editor", has_text=call))
    assert cells.count() == 1, f"expected one cell calling {call}; found {cells.count()}"
    return cells.first


def error_outputs(page) -> list[str]:
    """The errors the open notebook shows: error outputs of its cells (tracebacks), and
    widgets that failed to render."""
    return page.evaluate(f"""() => {{
        const errors = [];
        const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
        for (let index = 0; index < cells.length; index++) {{
            const outputs = cells.get(index).outputs;
            for (let k = 0; outputs && k < outputs.length; k++) {{
                const output = outputs.get(k);
                if (output.type === 'error') {{
                    errors.push(`cell ${{index}}: ${{output.toJSON().ename}}`);
                }}
            }}
        }}
        for (const output of {OUTPUTS}) {{
            if (output.textContent.includes('Error displaying widget')) {{
                errors.push(output.textContent);
            }}
        }}
        return errors;
    }}""")


@pytest.mark.parametrize("notebook", EXPLORER_NOTEBOOKS)
def test_explorer_runs_and_redraws_in_jupyterlab(notebook, lab, page, screenshots):
    call = EXPLORER_NOTEBOOKS[notebook]
    source = (ROOT / "notebooks" / notebook).read_text()
    if call not in source:
        pytest.fail(f"{notebook} has no cell calling pooling_lab.{call}")
    stem = notebook.split("_")[0]
    page.goto(f"{lab}/lab/tree/{notebook}?reset")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                           " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
                           timeout=SERVER_START_S * 1000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(FINISHED, timeout=RUN_ALL_S * 1000, polling=500)

    cell = explorer_cell(page, call)
    output = cell.locator(".jp-OutputArea-output")
    picture = output.locator("img").first
    picture.wait_for(timeout=REDRAW_S * 1000)
    cell.scroll_into_view_if_needed()
    # The live widget, once: one output, holding the controls and one picture, and not the
    # static PNG beside it (a front end without widgets would show that instead).
    assert output.count() == 1
    assert output.locator(".widget-slider").count() >= 1
    assert output.locator("img").count() == 1
    assert output.locator(".jp-RenderedImage").count() == 0
    before_src = picture.get_attribute("src")
    before = picture.screenshot(path=screenshots / f"{stem}_before.png")
    page.screenshot(path=screenshots / f"{stem}_page_before.png")

    # Move the stride slider one step to the right with the keyboard.
    stride = output.locator(".widget-slider", has_text="stride").locator(".noUi-handle")
    stride.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("([cell, src]) => cell.querySelector('img').src !== src",
                           arg=[cell.element_handle(), before_src], timeout=REDRAW_S * 1000)
    page.wait_for_timeout(300)                          # let the new picture paint
    after = picture.screenshot(path=screenshots / f"{stem}_after.png")
    page.screenshot(path=screenshots / f"{stem}_page_after.png")
    assert after != before
    assert error_outputs(page) == []
    # Controls for a hall: text of 16 px or more, slider tracks of 150 px or more.
    controls = output.evaluate("""output => {
        const texts = [...output.querySelectorAll('.widget-label, .widget-readout, select, button')]
            .filter(element => element.textContent.trim() || element.tagName === 'SELECT');
        const tracks = [...output.querySelectorAll('.widget-hslider .slider-container')];
        return {text: Math.min(...texts.map(e => parseFloat(getComputedStyle(e).fontSize))),
                track: Math.min(...tracks.map(e => e.getBoundingClientRect().width))};
    }""")
    assert controls["text"] >= 16 and controls["track"] >= 150, controls
    # A 1280 px screen at 100% and 150% zoom (a CSS viewport 1280 / 1.5 px wide), file browser
    # closed: the explorer fits its cell, and its smallest text, on the screen, is 16 px or more.
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
    for zoom in (1, 1.5):
        page.set_viewport_size({"width": round(1280 / zoom), "height": round(720 / zoom)})
        page.wait_for_timeout(500)
        fit = output.evaluate(FIT, zoom)
        print(f"{stem} at {zoom:.0%}: {fit}")
        assert fit["overflow"] <= 0 and fit["cut"] <= 0, fit
        assert fit["figure_px"] >= 16 and fit["controls_px"] >= 16, fit
    page.screenshot(path=screenshots / f"{stem}_page_150.png")
    page.set_viewport_size({"width": 1400, "height": 1000})
    if notebook == "01_pooling_loops.ipynb":
        # A refused setting (padding 4 with windows of size 3) really dims the picture.
        def opacity():
            return float(picture.evaluate("image => getComputedStyle(image).opacity"))
        assert opacity() == 1
        output.locator(".widget-dropdown", has_text="padding").locator("select").select_option("4")
        output.locator(".widget-html", has_text="too large").wait_for(timeout=REDRAW_S * 1000)
        page.wait_for_timeout(300)
        assert opacity() == 0.3
        picture.screenshot(path=screenshots / f"{stem}_refused.png")
        output.locator(".widget-dropdown", has_text="padding").locator("select").select_option(
            "valid")
        page.wait_for_function("image => getComputedStyle(image).opacity === '1'",
                               arg=picture.element_handle(), timeout=REDRAW_S * 1000)
