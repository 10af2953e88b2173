"""Slide decks that need no network: ``python -m pooling_lab slides NOTEBOOK... --out DIR``.

Each notebook becomes ``DIR/<name>.slides.html``, a reveal.js deck made by nbconvert's
``SlidesExporter``. Everything the deck loads sits in DIR, copied from installed packages:
reveal.js from ``sphinx-revealjs`` and MathJax from ``jupyter-server-mathjax`` (both in the
``course`` extra). The template drops require.js, jQuery, mermaid and the widget manager,
which nbconvert would fetch from CDNs; an explorer shows the static picture of its output.

The slides are 1280x720 with prose at 24 px and code at 20 px (a hall's back row). A cell
tagged ``hide-input`` shows its output only (the figure, not the plotting code); checks
(``assert``), ``# NBVAL_`` markers and ``remove-cell`` cells are left out; ``notes`` cells are
speaker notes (``S`` opens them). Nothing scrolls: :func:`fitted` lays the cells out by
estimated heights (``SLIDE`` ...), which tests/test_slides.py checks in Chromium.

A notebook is not trusted: everything it puts in the deck is cleaned by nh3 (scripts, event
handlers, iframes, styles and ``javascript:`` URLs go; only the deck's own reveal.js and MathJax
run), and a picture must be a file in the notebook's folder.
"""

import ast
import base64
import copy
import json
import re
import shutil
import struct
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Where each library comes from: (folder in DIR, package, folder inside the package).
ASSETS = (("reveal.js", "sphinx_revealjs", "_static/revealjs"),
          ("mathjax", "jupyter_server_mathjax", "static"))

#: What a notebook may put on a slide (nh3's keyword arguments): text, tables, code, pictures.
ALLOWED = {"attributes": {"*": {"class", "id"}, "a": {"href"}, "td": {"colspan", "rowspan"},
                          "img": {"src", "alt", "width", "height"}, "th": {"colspan", "rowspan"}},
           "url_schemes": {"http", "https", "mailto", "data"}}

#: The decks' measures in px (the CSS of slides.html.j2): the height a slide's cells may fill,
#: a line of prose (24 px text), a line of code or output (20 px), the space around a block,
#: the characters of prose on a line (of output: the same), the largest picture (width, height).
SLIDE, PROSE, CODE, GAP, PROSE_CHARS, PICTURE = 680, 32, 24, 24, 90, (1232, 660)

#: The comments around the notebook's part of the deck, the part that is cleaned.
CELLS = ("<!-- cells -->", "<!-- end of cells -->")

#: nbconvert's reveal template with local scripts only, the hall's sizes, and the ``CELLS`` marks.
TEMPLATE = Path(__file__).with_name("slides.html.j2")


@dataclass(frozen=True)
class Settings:
    notebooks: tuple        # the notebooks' paths
    out: Path


def add_arguments(parser) -> None:
    parser.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK",
                        help="notebooks to convert (.ipynb files)")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="folder for the decks and the scripts they load (made if missing)")


def check_arguments(args) -> Settings:
    for name, package, _ in (*ASSETS, ("a sanitiser", "nh3", "")):
        if find_spec(package) is None:
            raise ValueError(f"the decks need {name} from the package {package!r}, which is "
                             f"not installed (pip install -e \".[course]\")")
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            raise ValueError(f"NOTEBOOK must be an .ipynb file; got {str(path)!r}")
        try:
            json.loads(path.read_text(encoding="utf-8"))["cells"]
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"NOTEBOOK {str(path)!r} is not a notebook: {error}") from None
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out must be a folder; got the file {str(args.out)!r}")
    args.out.mkdir(parents=True, exist_ok=True)
    return Settings(tuple(args.notebooks), args.out)


def without_checks(source: str) -> str:
    """``source`` without its top-level ``assert`` statements and ``assert_*`` calls (they
    check the prose in the notebook; in a hall they are noise) and its ``# ... NBVAL_`` lines."""
    lines = source.split("\n")
    try:
        statements = ast.parse(source).body
    except SyntaxError:                                # an IPython magic: lines kept as they are
        statements = []
    for statement in reversed(statements):
        call = getattr(statement, "value", None)
        if isinstance(statement, ast.Assert) or (isinstance(statement, ast.Expr) and isinstance(
                call, ast.Call) and ast.unparse(call.func).split(".")[-1].startswith("assert")):
            del lines[statement.lineno - 1:statement.end_lineno]
    return "\n".join(line for line in lines if not (line.lstrip().startswith("#")
                                                    and "NBVAL_" in line)).strip()


def for_slides(notebook):
    """A copy of ``notebook`` as the deck shows it: no checks or test markers, explorers as
    pictures, a code cell left empty by that shown by its output alone, or not at all."""
    notebook = copy.deepcopy(notebook)
    notebook.metadata.pop("widgets", None)
    for cell in (cell for cell in notebook.cells if cell.cell_type == "code"):
        cell.source = without_checks(cell.source)
        if not cell.source:
            cell.metadata["tags"] = sorted({*cell.metadata.get("tags", []), "hide-input"})
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if len(data) > 1:                           # a widget beside its static picture
                data.pop("application/vnd.jupyter.widget-view+json", None)
    notebook.cells = fitted([cell for cell in notebook.cells
                             if cell.cell_type != "code" or cell.source or cell.outputs])
    return notebook


def markdown_blocks(source: str) -> list:
    """``source`` cut at its blank lines and list items, a fenced code block kept whole."""
    blocks = []
    for part in re.split(r"\n\n|\n(?=(?:> )?(?:[-*]|\d+\.) )", source):
        if blocks and blocks[-1].count("```") % 2:
            blocks[-1] += "\n\n" + part
        else:
            blocks.append(part)
    return blocks


def markdown_height(source: str) -> float:
    """The estimated height (px) of ``source`` as markdown on a slide."""
    total = 0
    for block in markdown_blocks(re.sub(r"(?m)^> ?", "", source)):     # quotes as paragraphs
        lines = block.split("\n")
        if "![" in block:
            total += PICTURE[1]
        elif block.startswith(("```", "    ")):
            total += CODE * len(lines)
        elif block.startswith("|"):                   # a table: rows of up to two lines
            total += 2 * PROSE * len(lines)
        elif re.match(r"#|\s*([-*]|\d+\.)\s", block):          # headings, lists
            total += PROSE * sum(1 + len(line) // PROSE_CHARS for line in lines)
        else:
            total += PROSE * (1 + len(block) // PROSE_CHARS)
        total += GAP
    return total


def output_height(output) -> float:
    """The estimated height (px) of one output of a code cell on a slide."""
    data = output.get("data", {})
    if "image/png" in data:                           # the PNG header holds width and height
        header = base64.b64decode(data["image/png"][:32])
        width, height = struct.unpack(">II", header[16:24]) if len(header) == 24 else PICTURE
        return height * min(1, PICTURE[0] / width, PICTURE[1] / height) + GAP
    if "text/markdown" in data:
        return markdown_height(data["text/markdown"])
    lines = output.get("text", "").rstrip("\n").split("\n")      # long lines wrap
    return CODE * sum(1 + len(line) // PROSE_CHARS for line in lines) + GAP


def height(cell) -> float:
    """The estimated height (px) of ``cell`` on a slide."""
    if cell.cell_type == "markdown":
        return markdown_height(cell.source)
    hidden = "hide-input" in cell.metadata.get("tags", []) or not cell.source.strip()
    return (0 if hidden else CODE * (cell.source.count("\n") + 1) + GAP) + sum(
        output_height(output) for output in cell.get("outputs", []))


def copied(cell, **changes):
    """A copy of ``cell`` with ``changes`` (source, outputs)."""
    piece = copy.deepcopy(cell)
    piece.update(changes)
    return piece


def pieces(cell, room: float = SLIDE) -> list:
    """``cell`` as copies that each fit a slide: prose cut between paragraphs (its first part
    filling the ``room`` left on the current slide), code between lines (at a blank line if one
    is near), each output alone, long text outputs cut short."""
    if height(cell) <= (room if cell.cell_type == "markdown" else SLIDE):
        return [cell]
    if cell.cell_type == "markdown":
        parts, limit = [""], room
        for block in markdown_blocks(cell.source):
            joined = f"{parts[-1]}\n\n{block}".strip("\n")
            if markdown_height(joined) <= limit:
                parts[-1] = joined
            else:
                parts, limit = [*parts, block], SLIDE
        return [copied(cell, source=part) for part in parts if part]
    lines, most, parts = cell.source.split("\n"), (SLIDE - GAP) // CODE, []
    while "hide-input" not in cell.metadata.get("tags", []) and lines:
        cut = len(lines) if len(lines) <= most else max(
            [most // 2] + [at for at in range(most // 2, most) if not lines[at].strip()])
        parts.append(copied(cell, source="\n".join(lines[:cut]), outputs=[]))
        lines = lines[cut:]
    for output in cell.get("outputs", []):
        output = copy.deepcopy(output)
        field, key = (output, "text") if "text" in output else (output.get("data"), "text/markdown")
        lines = field.get(key, "").split("\n")
        while output_height(output) > SLIDE and len(lines) > 1:     # long text cut short
            lines.pop()
            field[key] = "\n".join(lines) + "\n\n... (the rest is in the notebook)\n"
        parts.append(copied(cell, source="", outputs=[output]))
        parts[-1].metadata["tags"] = sorted({*cell.metadata.get("tags", []), "hide-input"})
    return parts


def fitted(cells: list) -> list:
    """``cells`` laid out on slides that fit: a cell that would run off the bottom of its
    sub-slide starts the next one; a cell taller than a slide is first cut in ``pieces``."""
    laid_out, used = [], 0
    for cell in cells:
        kind = cell.metadata.get("slideshow", {}).get("slide_type", "-")
        if kind in ("notes", "skip"):
            laid_out.append(cell)
            continue
        starts = kind in ("slide", "subslide")
        for number, piece in enumerate(pieces(cell, SLIDE if starts else SLIDE - used)):
            tall = height(piece)
            if number == 0 and starts:
                used = 0
            elif used + tall > SLIDE:
                piece.metadata["slideshow"] = {"slide_type": "subslide"}
                used = 0
            elif number > 0:
                piece.metadata["slideshow"] = {"slide_type": "-"}
            piece.id = f"{cell.id}-{number}" if number else cell.id
            used += tall
            laid_out.append(piece)
    return laid_out


def deck_html(notebook) -> str:
    """The reveal.js deck of ``notebook`` (a NotebookNode); it loads scripts from its folder."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config({"TagRemovePreprocessor": {"enabled": True, "remove_cell_tags": ["remove-cell"],
                                               "remove_input_tags": ["hide-input"]}})
    exporter = SlidesExporter(config=config, template_file=str(TEMPLATE),
                              reveal_url_prefix="reveal.js", reveal_theme="white")
    return sanitised(exporter.from_notebook_node(for_slides(notebook))[0])


def only_pictures_as_data(tag: str, attribute: str, value: str):
    """nh3's attribute filter: a ``data:`` URL only as a picture's source."""
    is_data = value.strip().lower().startswith("data:")
    return None if is_data and (tag, attribute) != ("img", "src") else value


def sanitised(html: str) -> str:
    """The deck ``html`` with its notebook part (between the ``CELLS`` comments) cleaned by nh3."""
    import nh3
    head, _, rest = html.partition(CELLS[0])
    cells, _, tail = rest.rpartition(CELLS[1])
    cells = nh3.clean(cells, tags=nh3.ALLOWED_TAGS | {"section", "aside"},
                      attribute_filter=only_pictures_as_data, **ALLOWED)
    return f"{head}{CELLS[0]}{cells}{CELLS[1]}{tail}"


def pictures(html: str, notebook: Path) -> list:
    """The picture files a deck shows, relative to the notebook's folder; ValueError names the
    cell of a picture that is not a file in that folder (``../x``, ``/x``, ``http://...``)."""
    folder, cell, found = notebook.parent.resolve(), None, []
    for match in re.finditer(r'id="cell-id=([^"]*)"|<img [^>]*src="([^"]*)"', html):
        cell, source = match[1] or cell, unescape(match[2] or "")
        if not source or source.startswith("data:"):
            continue
        file = (folder / unquote(source)).resolve()
        if urlsplit(source).scheme or not file.is_relative_to(folder):
            raise ValueError(f"{notebook}: cell {cell}: the picture {source!r} is not a file "
                             f"in the notebook's folder")
        found += [file.relative_to(folder)] if file.is_file() else []
    return found


def run(settings: Settings) -> int:
    """Write one deck per notebook into ``settings.out``; print each deck's path. A picture
    outside a notebook's folder is one line on stderr and exit status 2, before any deck."""
    import nbformat

    try:
        decks = {path: deck_html(nbformat.read(path, as_version=4)) for path in settings.notebooks}
        shown = {path: pictures(html, path) for path, html in decks.items()}
    except ValueError as error:
        print(f"pooling-lab slides: error: {error}", file=sys.stderr)
        return 2
    for name, package, inside in ASSETS:              # reveal.js and MathJax, beside the decks
        shutil.copytree(Path(find_spec(package).origin).parent / inside, settings.out / name,
                        dirs_exist_ok=True)
    for path, html in decks.items():
        for picture in shown[path]:
            (settings.out / picture).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path.parent / picture, settings.out / picture)
        deck = settings.out / f"{path.stem}.slides.html"
        deck.write_text(html, encoding="utf-8")
        print(deck)
    return 0
