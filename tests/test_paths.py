"""The class paths of notebooks/TEACHING.md run as taught, section by section.

``notebooks/paths.json`` lists, for each path, the notebooks and the ``## `` sections taught.
A teacher who runs only those sections on a fresh kernel, after the cells above the first
``## `` heading (the imports), must meet no error: each test below does exactly that on a
trimmed copy of one notebook. A notebook taught whole is left to nbval, which runs every
notebook already. Another test keeps TEACHING.md's path tables and paths.json in step.
"""

import json
import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PATHS = json.loads((NOTEBOOKS / "paths.json").read_text(encoding="utf-8"))


def sections(cells) -> dict:
    """{heading text without '## ': the cells of its section}, and under ``None`` the cells
    before the first ``## `` heading."""
    found, current = {None: []}, None
    for cell in cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            current = cell.source.split("\n")[0][3:]
            found[current] = []
        found[current].append(cell)
    return found


def headings(name: str) -> list:
    import nbformat
    return [heading for heading in sections(nbformat.read(NOTEBOOKS / name, 4).cells)
            if heading is not None]


def partial_runs() -> dict:
    """{"<notebook>: <sections>": (notebook, sections)} for each choice of sections that no
    other run covers. Cells depend only on cells above them, so a run whose sections begin
    another run's sections (or the whole notebook's, which nbval runs) needs no run of its own:
    ``00: 1, 4`` is covered by ``00: 1, 4, 5``, and ``01: 1 to 7, Try it`` by the notebook."""
    chosen = {(step["notebook"], tuple(step["sections"]))
              for steps in PATHS.values() for step in steps}
    longer = chosen | {(name, tuple(headings(name))) for name, _ in chosen}
    runs = {}
    for name, wanted in sorted(chosen):
        if any(other == name and len(more) > len(wanted) and more[:len(wanted)] == wanted
               for other, more in longer) or wanted == tuple(headings(name)):
            continue
        label = f"{name[:2]}: " + ", ".join(heading.split(" · ")[0] for heading in wanted)
        runs[label] = (name, list(wanted))
    return runs


def test_every_listed_section_is_a_heading_of_its_notebook():
    for path, steps in PATHS.items():
        for step in steps:
            known = headings(step["notebook"])
            unknown = [heading for heading in step["sections"] if heading not in known]
            assert not unknown, f"{path}: {step['notebook']} has no sections {unknown}"
            assert step["sections"] == sorted(step["sections"], key=known.index), (
                f"{path}: {step['notebook']}'s sections are not in the notebook's order")


def teaching_paths() -> dict:
    """{path heading: {notebook number: set of section numbers, or None for the whole
    notebook}} read from the tables of TEACHING.md's ``## Path`` sections. A table cell names
    a notebook as ``01 · `` followed by ``§2`` or ``§Try it`` tokens; a bare number, as in
    ``00, 01``, means the whole notebook."""
    text = (NOTEBOOKS / "TEACHING.md").read_text(encoding="utf-8")
    found = {}
    for block in re.split(r"\n(?=## )", text):
        if not block.startswith("## Path"):
            continue
        taught = found.setdefault(block.split("\n")[0][3:], {})
        for row in re.findall(r"^\|[^|]*\|([^|]*)\|", block, flags=re.M):
            for number, rest in re.findall(r"\b(0\d)\b( ·[^|]*?(?=\b0\d\b|$))?", row):
                if rest:
                    taught.setdefault(number, set()).update(
                        re.findall(r"§(\d+|Try it|How others get it wrong|Discuss)", rest))
                else:
                    taught[number] = None
    return found


def test_teaching_md_and_paths_json_name_the_same_sections():
    expected = {}
    for path, steps in PATHS.items():
        expected[path] = {}
        for step in steps:
            whole = step["sections"] == headings(step["notebook"])
            expected[path][step["notebook"][:2]] = None if whole else {
                heading.split(" · ")[0] for heading in step["sections"]}
    assert teaching_paths() == expected


def prose_words(cells) -> int:
    """Words of prose in ``cells``: the markdown, without fenced code, as TEACHING.md counts."""
    text = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    return len(re.sub(r"```.*?```", "", text, flags=re.S).split())


#: TEACHING.md's rule: 100 words a minute, 5 minutes of discussion per notebook, 5 per explorer.
WORDS_PER_MINUTE, DISCUSSION, EXPLORERS = 100, 5, {"01": 1, "04": 1, "05": 1}


def test_teaching_minutes_follow_the_words_per_minute_rule():
    import math
    import nbformat
    text = (NOTEBOOKS / "TEACHING.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (0\d) · [^|]+\| ([\d,]+)(?: \(\+([\d,]+) deep dive\))? \| "
                      r"(\d+)(?: \(\+(\d+)\))? \|", text, flags=re.M)
    assert [row[0] for row in rows] == [f"0{k}" for k in range(8)]
    for number, words, deep, minutes, deep_minutes in rows:
        words, deep = int(words.replace(",", "")), int((deep or "0").replace(",", ""))
        expected = math.ceil(words / WORDS_PER_MINUTE + DISCUSSION
                             + 5 * EXPLORERS.get(number, 0))
        assert int(minutes) == expected, f"{number}: {minutes} minutes for {words} words"
        assert int(deep_minutes or 0) == math.ceil(deep / WORDS_PER_MINUTE)
        name = next(NOTEBOOKS.glob(f"{number}_*.ipynb")).name
        parts = sections(nbformat.read(NOTEBOOKS / name, 4).cells)
        optional = sum(prose_words(cells) for heading, cells in parts.items()
                       if heading and "Optional deep dive" in heading)
        actual = sum(prose_words(cells) for cells in parts.values()) - optional
        assert abs(actual - words) <= 0.1 * actual, f"{number}: {words} words; counted {actual}"
        assert abs(optional - deep) <= 0.1 * max(optional, 1)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A copy of notebooks/ (a notebook may write files where it runs)."""
    folder = tmp_path_factory.mktemp("paths") / "notebooks"
    shutil.copytree(NOTEBOOKS, folder)
    return folder


@pytest.mark.parametrize("label", partial_runs())
def test_a_path_runs_its_sections_alone_on_a_fresh_kernel(label, workdir):
    import nbformat
    from nbclient import NotebookClient
    name, wanted = partial_runs()[label]
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    parts = sections(notebook.cells)
    notebook.cells = parts[None] + [cell for heading in wanted for cell in parts[heading]]
    # the trimmed copy holds the sections taught, in order, and nothing else
    assert [heading for heading in sections(notebook.cells) if heading] == list(wanted)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    executed = client.execute()   # raises CellExecutionError naming the cell that failed
    # ... and every code cell of the sections taught ran, none left out of the trimmed copy
    taught = [cell for heading in wanted for cell in parts[heading]
              if cell.cell_type == "code" and cell.source.strip()]
    ran = [cell for cell in executed.cells[len(parts[None]):]
           if cell.cell_type == "code" and cell.execution_count]
    assert len(ran) == len(taught) > 0, f"{label}: {len(ran)} of {len(taught)} code cells ran"
