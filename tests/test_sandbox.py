"""``judge_notebook``: the cells run in bubblewrap, the verdicts are given outside it.

The unit tests call a function in a sandbox and look at what comes back; the hostile class
grades submissions that try each attack of issue 24 beside an honest classmate. Without
bubblewrap they are skipped, except where ``POOLING_LAB_SANDBOX=require`` (CI) says it must be
there.
"""

import csv
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from pooling_lab.classroom import child, sandbox
from pooling_lab.classroom.exercises import EXERCISES

ROOT = Path(__file__).resolve().parent.parent
SOLVED = {path.stem: path.read_text(encoding="utf-8")
          for path in sorted((ROOT / "notebooks" / "solutions").glob("nb*.py"))}
FULL_MARKS = sum(sum(exercise.points.values()) for exercise in EXERCISES.values())

if sandbox.sandbox_problem() and os.environ.get("POOLING_LAB_SANDBOX") == "require":
    raise RuntimeError(f"POOLING_LAB_SANDBOX=require but {sandbox.sandbox_problem()}")
needs_sandbox = pytest.mark.skipif(bool(sandbox.sandbox_problem()),
                                   reason=f"no sandbox here: {sandbox.sandbox_problem()}")


def notebook(*sources) -> str:
    cells = [{"cell_type": "code", "id": f"c{number}", "metadata": {}, "outputs": [],
              "execution_count": number + 1, "source": source}
             for number, source in enumerate(sources)]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def returned(source: str, inputs=None, limit=3.0, isolated=True):
    """What ``f(**inputs)``, defined by the cell ``source``, returns in a sandbox (a watch.Call)."""
    box = sandbox.Sandbox([("[1]", source)], [], isolated)
    try:
        assert not box.ended and not box.failed, (box.ended, box.failed)
        return box.call("f", inputs or {}, limit, False)
    finally:
        box.close()


# --- The channel ---

def test_frames_carry_arrays_tuples_and_numbers_and_nothing_else():
    message = {"a": np.arange(6.0).reshape(2, 3).T, "t": (1, 2.5, None, [True]),
               "s": np.float32(1.5), "other": {1, 2}}
    back = child.unpack(child.pack(message), lambda name, text: f"<{name}: {text}>")
    np.testing.assert_array_equal(back["a"], message["a"])
    assert back["t"] == (1, 2.5, None, [True]) and back["s"].dtype == np.float32
    assert back["other"] == "<set: {1, 2}>"


def test_an_array_whose_header_lies_is_refused_before_any_allocation():
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.zeros(2))
    lying = buffer.getvalue().replace(b"(2,)", b"(10000000000000,)")
    body = child.pack({"x": np.zeros(2)}).replace(buffer.getvalue(), lying)
    with pytest.raises(ValueError, match="does not match"):
        child.unpack(body)


def test_a_reply_over_the_limit_is_refused_unread():
    ours, theirs = socket.socketpair()
    theirs.sendall((2**40).to_bytes(8, "big"))
    with pytest.raises(OverflowError, match="1,099,511,627,776 bytes"):
        child.receive(ours)


def test_without_the_sandbox_the_same_child_judges_and_stops_a_swallowed_stop(tmp_path):
    call = returned("def f(x):\n    return x * 2", {"x": np.arange(3)}, isolated=False)
    np.testing.assert_array_equal(call.result, [0, 2, 4])
    start = time.monotonic()
    call = returned("def f():\n    while True:\n        try:\n            while True:\n"
                    "                pass\n        except:\n            pass", limit=1.0,
                    isolated=False)
    assert call.kind == "slow" and time.monotonic() - start < 1.0 + sandbox.GRACE + 1.0
    (tmp_path / "a.ipynb").write_text(notebook(SOLVED["nb00"].replace(
        "from pooling_lab import check\n", "")))
    judged = sandbox.judge_notebook(tmp_path / "a.ipynb", ["to_channels_first"], seed=1,
                                    sandbox="off")
    assert judged.verdicts["to_channels_first"].passed and judged.notes == []


@pytest.mark.skipif(bool(sandbox._seccomp_problem()), reason="no seccomp here (pyseccomp, Linux)")
def test_without_the_sandbox_no_new_process_either():
    call = returned("import os\ndef f():\n    try:\n        os.fork()\n"
                    "    except OSError as error:\n        return error.strerror", isolated=False)
    assert call.result == "Operation not permitted"


def test_a_notebook_over_the_size_limit_is_refused_unread(tmp_path):
    (tmp_path / "big.ipynb").write_text(notebook("x = 1", "#" * (21 * 1024**2)))
    judged = sandbox.judge_notebook(tmp_path / "big.ipynb", ["my_avg_pool"], seed=1)
    assert judged.notes == ["too large (over 16 MiB): not graded"]
    assert not judged.verdicts["my_avg_pool"].passed


def test_cells_are_read_as_ipython_reads_them(tmp_path):
    """Magics and shell lines as IPython turns them (``%%time`` and ``%time`` run their code);
    continuation lines starting with ``%`` or ``!=`` kept; the course's own cells not run; a
    failing cell named as Jupyter shows it."""
    course = json.loads((ROOT / "notebooks" / "01_pooling_loops.ipynb").read_text())
    setup = next(cell for cell in course["cells"] if cell["cell_type"] == "code")
    cells = json.loads(notebook(
        "%matplotlib inline\nfiles = !ls\nSIGN = (1\n        != 2)",
        "%%writefile ../pooling_lab/check.py\nprint('hacked')",
        "def to_channels_first(x):\n    axes = (0, 3 % 4,\n            1 % 4, 2)\n"
        "    return x.transpose(axes) if SIGN and timed(untimed) == 2 else x",
        "1 / 0", "undefined_name", "%%time\ndef timed(x):\n    return x",
        "%time untimed = timed(2)\n%timeit timed(3)\n!rm -rf /tmp/*"))
    cells["cells"][4]["execution_count"] = None
    cells["cells"].append(setup)
    (tmp_path / "a.ipynb").write_text(json.dumps(cells))
    judged = sandbox.judge_notebook(tmp_path / "a.ipynb", ["to_channels_first"], seed=1,
                                    sandbox="auto" if not sandbox.sandbox_problem() else "off")
    assert judged.verdicts["to_channels_first"].passed
    assert judged.notes == ["[4] line 1 does not run: ZeroDivisionError: division by zero",
                            "code cell 5 line 1 does not run: NameError: name 'undefined_name' "
                            "is not defined"]
    assert judged.answers["to_channels_first"].startswith("def to_channels_first(x):")


# --- The sandbox's walls and limits, each seen from inside ---

@needs_sandbox
def test_the_result_crosses_and_a_dict_becomes_a_named_placeholder():
    call = returned("def f():\n    return {'a': 1}")
    assert call.kind == "returned" and type(call.result).__name__ == "dict"
    assert repr(call.result) == "{'a': 1}"
    call = returned("def f(x):\n    return x * 2", {"x": np.arange(3)})
    np.testing.assert_array_equal(call.result, [0, 2, 4])


@needs_sandbox
@pytest.mark.parametrize("limit, phrase", [
    ("RLIMIT_AS", "1073741824"), ("RLIMIT_CPU", "120"), ("RLIMIT_FSIZE", "16777216"),
    ("RLIMIT_NOFILE", "64")])
def test_each_limit_is_set_soft_and_hard(limit, phrase):
    call = returned(f"import resource\ndef f():\n    return str(resource.getrlimit("
                    f"resource.{limit}))")
    assert repr(call.result) == repr(f"({phrase}, {phrase})")


@needs_sandbox
def test_cpu_time_and_open_files_are_limited_in_deed(monkeypatch):
    monkeypatch.setitem(sandbox.LIMITS, "RLIMIT_CPU", 1)
    start = time.monotonic()
    box = sandbox.Sandbox([("[1]", "while True:\n    pass")], [], True)
    assert box.ended in ("the process running it was killed by SIGXCPU",
                         "the process running it was killed by SIGKILL")   # soft = hard
    assert time.monotonic() - start < sandbox.STATEMENT_SECONDS      # not the wall deadline
    monkeypatch.undo()
    call = returned("def f():\n    files = []\n    try:\n        while True:\n"
                    "            files.append(open('/dev/null'))\n    except OSError as error:\n"
                    "        return len(files) < 64, error.strerror")
    assert call.result == (True, "Too many open files")


@needs_sandbox
def test_memory_beyond_the_limit_is_a_memory_error():
    call = returned("def f():\n    return bytearray(3 * 1024**3)")
    assert call.kind == "raised MemoryError"


@needs_sandbox
def test_no_new_process_but_threads_run():
    call = returned("import os, subprocess, threading\ndef f():\n    said = []\n"
                    "    for start in (os.fork, lambda: subprocess.run(['/bin/true'])):\n"
                    "        try:\n            start()\n        except OSError as error:\n"
                    "            said.append(type(error).__name__)\n"
                    "    worker = threading.Thread(target=said.append, args=('thread',))\n"
                    "    worker.start()\n    worker.join()\n    return said")
    assert call.result == ["PermissionError", "PermissionError", "thread"]


@needs_sandbox
def test_files_written_stay_small_and_inside():
    call = returned("import os\ndef f():\n    said = []\n"
                    "    for path in ('/tmp/a', '/tmp/b', '/tmp/c', '/x', os.environ['HOME'] +"
                    " '/../y'):\n        try:\n            with open(path, 'wb') as file:\n"
                    "                for _ in range(20):\n"
                    "                    file.write(bytes(1024**2))\n"
                    "            said.append(os.path.getsize(path))\n"
                    "        except OSError as error:\n"
                    "            said.append(error.strerror)\n    return said")
    assert call.result == ["File too large", "File too large", "No space left on device",
                           "Read-only file system", "Read-only file system"]


@needs_sandbox
def test_the_child_sees_no_machine(tmp_path):
    (tmp_path / "mine.txt").write_text("the teacher's")
    call = returned("import os\ndef f():\n    seen = []\n"
                    "    for path in ('/etc/hostname', '/home', '/usr/bin', "
                    f"{str(tmp_path / 'mine.txt')!r}, '/tmp', {str(ROOT)!r}):\n"
                    "        seen.append(os.path.exists(path))\n"
                    "    return seen, sorted(os.environ), sorted(os.listdir('/proc'))[:3], "
                    "os.getuid()")
    seen, environment, processes, uid = call.result
    assert seen == [False, False, False, False, True, False]
    # ours, plus bubblewrap's PWD and the C locale Python coerces to UTF-8
    assert set(environment) - {"PWD", "LC_CTYPE"} == {
        "HOME", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "PATH"}
    assert processes == ["1", "2", "acpi"] and uid == 65534


@needs_sandbox
def test_no_network():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    call = returned(f"import socket\ndef f():\n    try:\n"
                    f"        socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
                    f"    except OSError as error:\n        return error.strerror\n")
    listener.settimeout(0.1)
    with pytest.raises(TimeoutError):
        listener.accept()
    assert call.result in ("Connection refused", "Network is unreachable")   # its own loopback


@needs_sandbox
def test_a_swallowed_stop_still_ends_within_the_limit_and_a_second():
    start = time.monotonic()
    call = returned("def f():\n    while True:\n        try:\n            while True:\n"
                    "                pass\n        except:\n            pass", limit=1.0)
    assert call.kind == "slow" and time.monotonic() - start < 1.0 + sandbox.GRACE + 1.0


# --- A hostile class beside an honest classmate ---

SECRET = "POOLING_LAB_HOSTILE_SECRET"
CHANNELS = ("def to_channels_first(x):\n    return x.transpose(0, 3, 1, 2) if {alone} else x")


def alone(test: str) -> str:
    """A solution of exercise 00 that is right only when ``test`` (Python) finds nothing."""
    return CHANNELS.format(alone=f"not ({test})")


def hostile_class(tmp: Path, port: int) -> dict:
    """name -> (cells, marks when every attack fails)."""
    home, honest = Path.home(), tmp / "honest.ipynb"
    return {
        "honest": ([source.replace("from pooling_lab import check\n", "")
                    for source in SOLVED.values()], FULL_MARKS),
        "frame_reader": (["import sys\ndef to_channels_first(x):\n    frame = sys._getframe(1)\n"
                          "    while frame:\n        if 'expected' in frame.f_locals:\n"
                          "            return frame.f_locals['expected']\n"
                          "        frame = frame.f_back\n"], 0),
        "default_argument": (["import builtins\ndef to_channels_first(x, _=setattr(builtins, "
                              "'judge', lambda *a, **k: True)):\n    return None"], 0),
        "forged_verdict": (["import sys, socket\nchannel = socket.socket(fileno=int(sys.argv[1]))"
                            "\ndef to_channels_first(x):\n    sys.modules['__main__'].send("
                            "channel, {'call': {'kind': 'pass', 'result': None}})\n"
                            "    return None"], 0),
        "rewrapped": (["import gc, types\ndef my_avg_pool(x, size, stride):\n"
                       "    for found in gc.get_objects():\n"
                       "        if getattr(found, '__name__', '') == 'avg_pool_forward':\n"
                       "            return types.FunctionType(found.__code__, dict("
                       "found.__globals__))(x, size, stride)[0]"], 0),
        "reads_solutions": ([f"exec(open({str(ROOT / 'notebooks/solutions/nb01.py')!r}).read()"
                             f".replace('from pooling_lab import check', ''))"], 0),
        "classmate": ([f"import glob, json\nfor path in glob.glob('/proc/*/cmdline') + "
                       f"[{str(honest)!r}]:\n    try:\n        text = open(path).read()\n"
                       f"    except OSError:\n        continue\n    if '.ipynb' in text:\n"
                       f"        for cell in json.load(open({str(honest)!r}))['cells']:\n"
                       f"            exec(cell['source'])\n"], 0),
        "name_trick": (["__name__ = 'pooling_lab.student'\nfrom pooling_lab import naive\n"
                        "def my_avg_pool(x, size, stride):\n"
                        "    return naive.avg_pool_forward(x, size, stride)[0]"], 0),
        "writes_outside": ([f"for path in ({str(tmp / 'pwned')!r}, {str(home / 'pwned')!r}, "
                            f"'/pwned'):\n    try:\n        open(path, 'w').write('x')\n"
                            f"    except OSError:\n        pass", CHANNELS.format(alone=True)], 1),
        "reads_machine": ([f"import os, sys\ndef seen():\n    try:  # the home folder, but "
                           f"the interpreter's folder (where it lies there)\n"
                           f"        found = [entry for entry in os.listdir({str(home)!r}) if "
                           f"not sys.base_prefix.startswith(os.path.join({str(home)!r}, "
                           f"entry))]\n    except OSError:\n        found = []\n"
                           f"    return found or os.path.exists('/etc/hostname')\n",
                           alone("seen()")], 1),
        "phones_home": ([alone(f"__import__('socket').create_connection(('127.0.0.1', {port}),"
                               f" 1) if True else 0")], 0),
        "reads_environ": ([alone(f"any({SECRET!r} in open(path, errors='replace').read() for "
                                 f"path in __import__('glob').glob('/proc/*/environ')) or "
                                 f"{SECRET!r} in __import__('os').environ")], 1),
        "forks": (["import os, time\nfor _ in range(3):\n    try:\n        if os.fork() == 0:\n"
                   "            blocks = bytearray(768 * 1024**2)\n            time.sleep(600)\n"
                   "    except OSError:\n        pass", alone("False")], 1),
        "fills_disk": (["for k in range(8):\n    with open(f'/tmp/big{k}', 'wb') as file:\n"
                        "        for _ in range(15):\n            file.write(bytes(1024**2))",
                        alone("False")], 1),
        "signal_40": (["import os\ndef to_channels_first(x):\n    os.kill(os.getpid(), 40)",
                       SOLVED["nb01"]], sum(sum(EXERCISES[name].points.values())
                                            for name in ("my_avg_pool", "my_avg_pool_padded"))),
        "renames_folder": (["import os\nos.rename(os.getcwd(), os.getcwd() + '_moved')",
                            alone("False")], 1),
        "nested": ("[" * 100_000, 0),
        "grandchild": (["import os, time\nif os.fork() == 0:\n    time.sleep(3600)",
                        alone("False")], 1),
        "huge_reply": (["import numpy as np\ndef to_channels_first(x):\n"
                        "    return np.zeros(300 * 1024**2 // 8)"], 0),
        "huge_message": (["def to_channels_first(x):\n    raise ValueError('\\x1b[2J' * 5 * "
                          "1024**2)"], 0),
        "hangs_in_a_cell": (["while True:\n    try:\n        pass\n    except:\n        pass",
                             alone("False")], 1),
        "swallowed_stop": (["def to_channels_first(x):\n    while True:\n        try:\n"
                            "            while True:\n                pass\n        except:\n"
                            "            pass"], 0),
    }


@needs_sandbox
@pytest.mark.slow
def test_a_hostile_class_steals_no_mark_and_the_honest_classmate_is_graded_in_full(
        tmp_path, capsys):
    listener = socket.create_server(("127.0.0.1", 0))
    connections = []
    threading.Thread(target=lambda: connections.append(listener.accept()), daemon=True).start()
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    students = hostile_class(tmp_path, listener.getsockname()[1])
    for name, (cells, _) in students.items():
        text = cells if isinstance(cells, str) else notebook(*cells)
        (submissions / f"{name}.ipynb").write_text(text)
    (tmp_path / "honest.ipynb").write_text(notebook(*students["honest"][0]))
    env = dict(os.environ, PYTHONPATH=str(ROOT), **{SECRET: "hunter2"})
    start = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-m", "pooling_lab", "grade", "--sandbox", "require", "--seed", "3",
         "--jobs", "2", "--out", str(tmp_path / "grades.csv"), str(submissions)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    seconds = time.monotonic() - start
    assert finished.returncode == 0, finished.stderr[-3000:]
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as table:
        rows = {Path(row["file"]).stem: row for row in csv.DictReader(table)}
    totals = {name: int(row["total"]) for name, row in rows.items()}
    with capsys.disabled():
        print(f"\n{len(students)} hostile and honest submissions graded in {seconds:.1f} s: "
              f"{totals}")
    assert totals == {name: marks for name, (_, marks) in students.items()}
    assert "nested" in rows and "not a notebook" in rows["nested"]["notes"]
    assert not connections
    assert not list(tmp_path.glob("pwned*")) and not (Path.home() / "pwned").exists()
    assert not Path("/pwned").exists()
    feedback = (tmp_path / "feedback" / "huge_message.md").read_text()
    assert len(feedback) < 20_000 and "\x1b" not in feedback
    assert "took longer than 3 s" in (tmp_path / "feedback" / "swallowed_stop.md").read_text()
    assert "[1] line 1 stopped the grading (took too long)" in rows["hangs_in_a_cell"]["notes"]
    left = [path for path in Path("/proc").glob("[0-9]*/cmdline")
            if b"child.py" in path.read_bytes()]
    assert not left


FORGERIES = ("frame_reader", "default_argument", "forged_verdict", "rewrapped", "name_trick",
             "forks", "signal_40", "nested", "grandchild", "huge_reply", "huge_message",
             "swallowed_stop")


@pytest.mark.slow
def test_without_the_sandbox_the_marks_still_cannot_be_forged(tmp_path):
    """What holds with ``sandbox="off"``: the verdicts (not the machine: see TEACHING.md)."""
    students = hostile_class(tmp_path, 9)
    for name in FORGERIES:
        cells, marks = students[name]
        path = tmp_path / f"{name}.ipynb"
        path.write_text(cells if isinstance(cells, str) else notebook(*cells))
        judged = sandbox.judge_notebook(path, list(EXERCISES), seed=3, sandbox="off")
        total = sum(sum(EXERCISES[exercise].points.values())
                    for exercise, verdict in judged.verdicts.items() if verdict.passed)
        assert total == marks, (name, judged.notes)


def test_grade_says_when_there_is_no_sandbox_and_require_refuses(tmp_path, monkeypatch,
                                                                  capsys):
    from pooling_lab.classroom import grade
    from pooling_lab.cli import main
    monkeypatch.setattr(grade, "sandbox_problem", lambda: "bubblewrap (bwrap) is not installed")
    monkeypatch.setattr(sandbox, "sandbox_problem", grade.sandbox_problem)
    (tmp_path / "alice.ipynb").write_text(notebook(SOLVED["nb00"]))
    arguments = ["--notebook", "00", "--out", str(tmp_path / "g.csv"), str(tmp_path)]
    assert main(["grade", "--sandbox", "require", *arguments]) == 2
    assert capsys.readouterr().err == ("pooling-lab grade: error: --sandbox require: no sandbox "
                                       "here: bubblewrap (bwrap) is not installed\n")
    assert main(["grade", *arguments]) == 0
    said = capsys.readouterr()
    notice = "No sandbox: bubblewrap (bwrap) is not installed; the students' code runs with"
    assert said.err.startswith(notice) and notice in said.out
    with open(tmp_path / "g.csv", newline="", encoding="utf-8") as table:
        (alice,) = csv.DictReader(table)
    assert (alice["file"], alice["to_channels_first"], alice["total"]) == ("alice.ipynb", "1", "1")
