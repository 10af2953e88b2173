"""Every notebook converts to a reveal.js deck with one slide per section.

``jupyter nbconvert --to slides notebooks/01_pooling_loops.ipynb`` is what a teacher runs; the
test calls the same exporter through nbconvert's Python API (one process, much faster). A
section is a markdown heading ``# `` (the title) or ``## ``; its cell carries the slideshow
metadata ``slide``, and everything up to the next section is sub-slides, fragments or notes,
nested inside that slide.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_nbconvert_is_installed_for_the_slides():
    import nbconvert                           # comes with jupyterlab; listed in the test extra
    major = int(nbconvert.__version__.split(".")[0])
    assert major >= 7, f"nbconvert {nbconvert.__version__}: the slides need nbconvert 7 or later"


def section_headings(notebook) -> list:
    """``(cell index, heading)`` of every ``# `` or ``## `` heading in the markdown cells."""
    headings = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        in_fence = False
        for line in cell.source.split("\n"):
            if line.startswith("```"):
                in_fence = not in_fence
            elif not in_fence and re.match(r"#{1,2} ", line):
                headings.append((index, line))
    return headings


class TopLevelSections(HTMLParser):
    """Counts the ``<section>`` elements directly inside reveal.js's ``<div class="slides">``."""

    def __init__(self):
        super().__init__()
        self.in_slides = False
        self.div_depth = 0
        self.section_depth = 0
        self.slides = 0

    def handle_starttag(self, tag, attrs):
        if tag == "div":
            if self.in_slides:
                self.div_depth += 1
            elif "slides" in (dict(attrs).get("class") or "").split():
                self.in_slides, self.div_depth = True, 1
        elif tag == "section" and self.in_slides:
            self.slides += self.section_depth == 0
            self.section_depth += 1

    def handle_endtag(self, tag):
        if tag == "section" and self.in_slides:
            self.section_depth -= 1
        elif tag == "div" and self.in_slides:
            self.div_depth -= 1
            self.in_slides = self.div_depth > 0


@pytest.fixture(scope="module")
def exporter():
    from nbconvert import SlidesExporter
    return SlidesExporter()


def deck_slides(exporter, notebook) -> int:
    """How many top-level slides the reveal.js deck of ``notebook`` has."""
    body, _ = exporter.from_notebook_node(notebook)
    assert "Reveal.initialize" in body, "not a reveal.js deck"
    parser = TopLevelSections()
    parser.feed(body)
    return parser.slides


def small_notebook(slide_types):
    """A title and two sections, each followed by a code cell, with the given slide types."""
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    cells = [new_markdown_cell("# 99 · A title"), new_code_cell("1 + 1"),
             new_markdown_cell("## 1 · First"), new_code_cell("2 + 2"),
             new_markdown_cell("## 2 · Second"), new_code_cell("3 + 3")]
    for cell, slide_type in zip(cells, slide_types):
        cell.metadata["slideshow"] = {"slide_type": slide_type}
    return new_notebook(cells=cells)


def test_the_slide_counter_counts_top_level_slides(exporter):
    marked = small_notebook(["slide", "subslide", "slide", "fragment", "slide", "subslide"])
    assert deck_slides(exporter, marked) == 3
    assert len(section_headings(marked)) == 3
    assert deck_slides(exporter, small_notebook(["slide", "-", "-", "-", "slide", "-"])) == 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name[:2])
def test_the_deck_has_one_slide_per_section(path, exporter):
    import nbformat
    notebook = nbformat.read(path, as_version=4)
    headings = section_headings(notebook)
    assert headings and headings[0][1].startswith("# "), f"{path.name}: no title"
    # A section must start its cell: only a cell can start a slide.
    first_lines = {index: notebook.cells[index].source.split("\n")[0] for index, _ in headings}
    buried = [heading for index, heading in headings if first_lines[index] != heading]
    assert not buried, f"{path.name}: headings in the middle of a cell: {buried}"
    slides = deck_slides(exporter, notebook)
    slide_cells = [index for index, cell in enumerate(notebook.cells)
                   if cell.get("metadata", {}).get("slideshow", {}).get("slide_type") == "slide"]
    section_cells = [index for index, _ in headings]
    assert slides == len(headings), (
        f"{path.name}: {slides} slides for {len(headings)} sections; cells marked "
        f"'slide': {slide_cells}, cells starting a section: {section_cells}")
    assert slide_cells == section_cells
