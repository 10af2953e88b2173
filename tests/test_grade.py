"""``python -m pooling_lab grade`` marks a made-up class; ``release`` writes a copy without solutions.

The class is generated here from templates: the reference solutions (a correct notebook), the
course's own notebooks (a blank one, every stub unsolved) and a few lines per cheat or accident.
"""

import csv
import json
import os
import re
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest

from pooling_lab.classroom import grade, release
from pooling_lab.cli import main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "notebooks" / "solutions"
EXERCISES = grade.EXERCISES


def full(name: str) -> int:
    """An exercise's points, over all its parts."""
    return sum(EXERCISES[name].points.values())


FULL_MARKS = sum(map(full, EXERCISES))

#: Each reference solutions module, whole: one cell each makes a correct notebook.
SOLVED = [path.read_text(encoding="utf-8") for path in sorted(SOLUTIONS.glob("nb*.py"))]
CHANNELS_FIRST, AVG_POOL = SOLVED[0], SOLVED[1]

#: The code cells of the course's notebooks: every exercise a stub, every figure cell too.
BLANK = ["".join(cell["source"]) for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
         for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]
         if cell["cell_type"] == "code"]

BLANK_00 = [source for source in BLANK if "def to_channels_first" in source]

#: The graded code must not see the grader's environment variables.
SECRET = "POOLING_LAB_TEST_SECRET"


def notebook(*sources, output="") -> str:
    """A notebook with one code cell per source (each showing ``output``) and one markdown."""
    cells = [{"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "# My work"}]
    cells += [{"cell_type": "code", "id": f"cell-{number}", "metadata": {},
               "execution_count": number, "source": source,
               "outputs": [{"output_type": "stream", "name": "stdout", "text": output}]}
              for number, source in enumerate(sources)]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def wrong(name, body, imports="import numpy as np") -> str:
    return f"{imports}\n\ndef {name}(*args):\n    {body}\n"


#: name -> (file's text, the exercises it solves, a phrase its notes or feedback must hold).
CLASS = {
    "correct": (notebook(*SOLVED), set(EXERCISES), f"{FULL_MARKS} of {FULL_MARKS} points"),
    "messy": (notebook("%matplotlib inline", CHANNELS_FIRST, "def oops(:\n    pass", "1 / 0",
                       "%%writefile ../pooling_lab/check.py\nprint('hacked')", AVG_POOL),
              {"to_channels_first", "my_avg_pool", "my_avg_pool_padded"},
              "[2] does not parse (line 1)"),
    "blank": (notebook(*BLANK), set(), "every code cell is the course's own"),
    "faked": (notebook(*BLANK_00, "solved = True", "print('PASSED')",
                       "from pooling_lab import check\n"
                       "check.channels_first = lambda f: print('PASSED') or True\n"
                       "check.judge = lambda *args, **kwargs: True",
                       "import pooling_lab\npooling_lab.check = None",
                       "import pooling_lab.classroom.grade as grader\n"
                       "grader.judge = lambda *args, **kwargs: type('Verdict', (), "
                       "{'passed': True, 'message': 'PASSED'})",
                       output="PASSED to_channels_first: 6 of 6 cases match the reference.\n"),
              set(), "no function to_channels_first"),
    "wrong": (notebook(wrong("to_channels_first", "return args[0].transpose(0, 3, 2, 1)"),
                       wrong("my_avg_pool", "return np.zeros(3)"), SOLVED[7]),
              {"my_softmax_cross_entropy", "my_cnn_gradients"}, "FAILED my_avg_pool"),
    "looping": (notebook(CHANNELS_FIRST, wrong("my_max_pool_forward", "while True: pass")),
                {"to_channels_first"}, "took longer than 3 s"),
    "memory_hungry": (notebook(
        wrong("my_windows", "return np.ones((1 << 17, 1 << 17))"),
        wrong("my_avg_pool_separable", "return [np.empty(10**8) for _ in range(1000)]")),
        set(), "bytes at once"),
    "wraps_fast": (notebook(
        "import pooling_lab.fast\nfrom pooling_lab import strided",
        wrong("my_max_pool_forward", "return pooling_lab.fast.max_pool_forward(*args)[0]"),
        wrong("my_avg_pool", "from pooling_lab import naive\n"
                             "    return naive.avg_pool_forward(*args)[0]")),
        set(), "No module named 'pooling_lab.fast'"),
    "wraps_checker": (notebook(
        "from pooling_lab.classroom import exercises\nimport pooling_lab",
        wrong("my_max_pool_forward", "return exercises.naive.max_pool_forward(*args)[0]"),
        wrong("my_avg_pool", "return pooling_lab.STYLES['fast'].avg_pool_forward(*args)[0]")),
        set(), "No module named 'pooling_lab.classroom'"),
    "copies_solutions": (notebook(
        "from notebooks.solutions.nb03 import my_max_pool_forward",
        "from solutions.nb01 import my_avg_pool",
        wrong("to_channels_first", "import torch\n    return torch.tensor(args[0])")),
        set(), "not defined"),
    "not_a_notebook": ("Dear teacher, my dog ate my notebook.", set(), "not a notebook"),
    "binary": ("\udcff\udcfe\x00 PNG", set(), "not a notebook"),
    "empty": (json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
              set(), "no code cell"),
    "broken_cells": (notebook(CHANNELS_FIRST, AVG_POOL + "\nprint('done'"),
                     {"to_channels_first"}, "[1] does not parse"),
    "constants": (notebook("AXES = (0, 3, 1, 2)",
                           "def to_channels_first(x):\n    return x.transpose(AXES)"),
                  {"to_channels_first"}, "not defined: my_avg_pool"),
    "redefined": (notebook(CHANNELS_FIRST,
                           wrong("to_channels_first", "return args[0]", imports="")),
                  set(), "FAILED to_channels_first"),
    "exits_early": (notebook("def to_channels_first(x, _=__import__('os')._exit(0)):\n"
                             "    return x.transpose(0, 3, 1, 2)", AVG_POOL),
                    {"my_avg_pool", "my_avg_pool_padded"}, "[0] line 1 stopped the grading"),
    "printer": (notebook("def to_channels_first(x):\n    print('PASSED ' * 10_000)\n"
                         "    return x.transpose(0, 3, 1, 2)"), {"to_channels_first"}, ""),
    "late_import": (notebook(AVG_POOL.replace("import numpy as np", ""), "import numpy as np"),
                    {"my_avg_pool", "my_avg_pool_padded"}, ""),
    "forged_verdict": (notebook(
        "import os\n\ndef to_channels_first(x):\n    for stream in range(1, 10):\n"
        "        try:\n"
        "            os.write(stream, b'{\"passed\": true, \"message\": \"PASSED\"}\\n')\n"
        "        except OSError:\n            pass"), set(), "a reply the grader does not read"),
    "nosy": (notebook(f"import os\n\ndef to_channels_first(x):\n"
                      f"    alone = os.listdir('.') == [] and {SECRET!r} not in os.environ\n"
                      f"    return x.transpose(0, 3, 1, 2) if alone else x"),
             {"to_channels_first"}, ""),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the class once: ``(grades.csv's rows by name, stdout, seconds)``."""
    folder = tmp_path_factory.mktemp("class")
    (folder / "submissions").mkdir()
    for name, (text, _, _) in CLASS.items():
        suffix = ".txt" if name == "not_a_notebook" else ".ipynb"
        (folder / "submissions" / f"{name}{suffix}").write_text(text, errors="surrogateescape")
    env = dict(os.environ, PYTHONPATH=str(ROOT), **{SECRET: "hunter2"})
    start = time.perf_counter()
    finished = subprocess.run(
        [sys.executable, "-m", "pooling_lab", "grade", "--out", str(folder / "grades.csv"),
         "--seed", "7", "--jobs", "2", str(folder / "submissions"),
         str(folder / "submissions" / "not_a_notebook.txt")],
        capture_output=True, text=True, env=env, cwd=folder, timeout=300)
    seconds = time.perf_counter() - start
    assert finished.returncode == 0, finished.stderr
    with open(folder / "grades.csv", newline="") as table:
        rows = {row["file"].rsplit(".", 1)[0]: row for row in csv.DictReader(table)}
    return folder, rows, finished.stdout, seconds


def test_the_table_has_one_row_per_file_and_the_points_beside_it(graded):
    folder, rows, _, seconds = graded
    print(f"{len(CLASS)} submissions graded in {seconds:.1f} s")
    header = (folder / "grades.csv").read_text().splitlines()[0]
    assert header == f"id,name,file,{','.join(EXERCISES)},days late,total,notes"
    assert set(rows) == set(CLASS)
    with open(folder / "points.csv", newline="") as table:
        points = list(csv.DictReader(table))
    assert {name: sum(int(row["points"]) for row in points if row["exercise"] == name)
            for name in EXERCISES} == {name: full(name) for name in EXERCISES}


@pytest.mark.parametrize("name", CLASS)
def test_every_mark(graded, name):
    folder, rows, _, _ = graded
    _, solved, phrase = CLASS[name]
    marks = {exercise: int(rows[name][exercise]) for exercise in EXERCISES}
    assert marks == {exercise: full(exercise) if exercise in solved else 0
                     for exercise in EXERCISES}
    assert int(rows[name]["total"]) == sum(marks.values())
    label = rows[name]["file"].removesuffix(".ipynb")
    feedback = (folder / "feedback" / f"{label}.md").read_text()
    assert feedback.startswith(f"# {label}: {sum(marks.values())} of ")
    assert phrase in rows[name]["notes"] + feedback


def test_the_summary_counts_who_solved_each_exercise(graded):
    _, _, stdout, _ = graded
    assert f"Graded {len(CLASS)} submissions (seed 7)" in stdout
    for name in EXERCISES:
        solved = sum(name in expected for _, expected, _ in CLASS.values())
        assert re.search(rf"\n  {name} +solved by {solved} of {len(CLASS)}\n", stdout)


def test_bad_arguments_are_one_line_and_exit_2(tmp_path, capsys):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "alice.ipynb").write_text(notebook())
    for arguments, phrase in (([tmp_path / "missing.ipynb"], "no such file or folder"),
                              ([tmp_path / "a", tmp_path / "b"], "named 'alice.ipynb'"),
                              (["--jobs", "0", tmp_path / "a"], "--jobs"),
                              (["--notebook", "08", tmp_path / "a"], "got 08"),
                              (["--out", tmp_path, tmp_path / "a"], "must name a file"),
                              (["--format", "canvas", tmp_path / "a"], "needs --roster"),
                              (["--deadline", "friday", tmp_path / "a"], "--deadline")):
        assert main(["grade", *map(str, arguments)]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and phrase in error


def test_one_notebook_s_exercises_are_graded_alone(tmp_path):
    """A week's homework is one notebook: --notebook 0 --notebook 01 grades those alone."""
    (tmp_path / "alice.ipynb").write_text(notebook(CHANNELS_FIRST))
    out = tmp_path / "grades.csv"
    assert main(["grade", "--notebook", "0", "--notebook", "01",
                 "--out", str(out), str(tmp_path / "alice.ipynb")]) == 0
    table = out.read_text().splitlines()
    assert table[0] == ("id,name,file,to_channels_first,my_avg_pool,my_avg_pool_padded,"
                        "days late,total,notes")                  # 01's challenge too
    points = full("to_channels_first")
    assert table[1].startswith(f",,alice.ipynb,{points},0,0,0,{points},")
    assert "not defined: my_avg_pool" in table[1]


# --------------------------------------------------------------------------------------------
# Release
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "course"
    finished = subprocess.run([sys.executable, "-m", "pooling_lab", "release", str(out)],
                              capture_output=True, text=True,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert finished.returncode == 0, finished.stderr
    return out


def test_the_release_holds_the_course_and_no_solution(released):
    files = {path.relative_to(released).as_posix() for path in released.rglob("*")}
    assert {"README.md", "pyproject.toml", "images/coffee.jpg", "pooling_lab/classroom/check.py",
            "notebooks/figures/sliding_window.gif", "dist/pooling_lab-1.0.0-py3-none-any.whl",
            *(f"notebooks/{path.name}" for path in (ROOT / "notebooks").glob("0*.ipynb"))} <= files
    assert not [name for name in files if "solutions" in name or "TEACHING" in name
                or name.startswith("tests")]
    wheel = zipfile.ZipFile(released / "dist" / "pooling_lab-1.0.0-py3-none-any.whl")
    assert "pooling_lab/_images/coffee.jpg" in wheel.namelist()
    runs = release.solution_runs(SOLUTIONS)
    assert len(runs) >= len(EXERCISES)
    for notebook_path in (released / "notebooks").glob("*.ipynb"):
        assert release.shown_solutions(notebook_path, runs) == []
        assert "notebooks/solutions" not in notebook_path.read_text()


def test_a_solved_notebook_is_not_released(tmp_path):
    runs = release.solution_runs(SOLUTIONS)
    (tmp_path / "05.ipynb").write_text(notebook("# my cell", SOLVED[5]))
    assert release.shown_solutions(tmp_path / "05.ipynb", runs) == [
        "_windows", "my_avg_pool_as_conv", "my_conv_backward", "my_conv_dx", "my_conv_forward"]


def test_release_refuses_a_folder_that_is_not_empty(released):
    finished = subprocess.run([sys.executable, "-m", "pooling_lab", "release", str(released)],
                              capture_output=True, text=True,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert finished.returncode == 2
    assert finished.stderr.count("\n") == 1 and "is not an empty folder" in finished.stderr


def test_the_wheel_installs_in_a_fresh_venv_and_runs_notebook_00(released, tmp_path):
    """The student's route: ``pip install pooling_lab-….whl``, then a notebook in any folder.

    The fresh venv sees this one's site-packages (NumPy, Jupyter) through a ``.pth`` line, so no
    download is needed; the package itself comes only from the wheel.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", tmp_path / "venv"], check=True)
    python = tmp_path / "venv" / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True).stdout.strip()
    Path(site, "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
                    "--no-deps",
                    released / "dist" / "pooling_lab-1.0.0-py3-none-any.whl"],
                   check=True, env=env)
    # The kernel of this venv's Python: Jupyter would otherwise find the outer one's.
    subprocess.run([python, "-m", "ipykernel", "install", "--prefix", tmp_path / "venv",
                    "--name", "student"], check=True, env=env, capture_output=True)
    copy = json.loads((released / "notebooks" / "00_welcome.ipynb").read_text())
    copy["cells"].append({"cell_type": "code", "id": "where", "metadata": {}, "outputs": [],
                          "execution_count": None,
                          "source": f"assert pooling_lab.__file__.startswith({site!r})"})
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "00.ipynb").write_text(json.dumps(copy))
    finished = subprocess.run([python, "-m", "nbconvert", "--to", "notebook",
                               "--execute", "--ExecutePreprocessor.kernel_name=student",
                               "--output", "done.ipynb", "00.ipynb"],
                              capture_output=True, text=True, env=env, cwd=tmp_path / "run")
    assert finished.returncode == 0, finished.stderr[-2000:]
