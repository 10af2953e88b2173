"""``python -m pooling_lab release OUT``: only what git tracks, OUT checked before any tool sees it.

Each test releases a clone of this course (``git clone`` of the checkout), so that files can be
added to it, tracked or not, without touching the checkout itself.
"""

import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from pooling_lab.classroom import release
from pooling_lab.cli import main

ROOT = Path(__file__).resolve().parent.parent
WHEEL = "dist/pooling_lab-1.0.0-py3-none-any.whl"

pytestmark = pytest.mark.skipif(not (ROOT / ".git").exists(),
                                reason="the course is not a git checkout here")


def git(folder, *arguments):
    subprocess.run(["git", "-C", str(folder), *arguments], check=True, capture_output=True)


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A clone of the course, released by this package: ``release.ROOT`` points at it."""
    clone = tmp_path / "course"
    git(ROOT, "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone))
    monkeypatch.setattr(release, "ROOT", clone)
    return clone


def refusal(arguments, capsys) -> str:
    assert main(["release", *map(str, arguments)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    return error


@pytest.mark.slow
def test_a_relative_out_gets_only_the_tracked_files(course, tmp_path, monkeypatch, capfd):
    (course / "pooling_lab" / "scratch_solutions.py").write_text("ANSWER = 42\n")
    monkeypatch.chdir(tmp_path)
    assert main(["release", "course-2027"]) == 0          # a bare name: a folder, not a package
    out = tmp_path / "course-2027"
    copied = {path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file()}
    assert "pooling_lab/scratch_solutions.py" not in copied
    assert "pooling_lab/classroom/check.py" in copied and "notebooks/00_welcome.ipynb" in copied
    assert not [name for name in copied if "solutions" in name or "TEACHING" in name]
    names = zipfile.ZipFile(out / WHEEL).namelist()
    assert "pooling_lab/classroom/check.py" in names
    assert not [name for name in names if "scratch" in name]


def test_out_inside_the_course_is_refused(course, capsys):
    for inside in (course / "pooling_lab" / "out", course):
        assert "is inside the course's folder" in refusal([inside], capsys)
    assert not (course / "pooling_lab" / "out").exists()


def test_a_dangling_symlink_out_is_refused(course, tmp_path, capsys):
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    assert "a symbolic link to nothing" in refusal([tmp_path / "link"], capsys)


def test_a_tracked_source_file_showing_a_solution_stops_the_release(course, tmp_path, capsys):
    solution = (course / "notebooks" / "solutions" / "nb01.py").read_text()
    (course / "pooling_lab" / "hints.py").write_text(solution)
    git(course, "add", "pooling_lab/hints.py")
    error = refusal([tmp_path / "out"], capsys)
    assert "pooling_lab/hints.py shows the solution of my_avg_pool" in error
    assert not (tmp_path / "out").exists()


def test_without_git_the_manifest_says_what_ships(course, tmp_path, capsys):
    os.rename(course / ".git", tmp_path / "git-elsewhere")
    assert f"list the files to release in {release.MANIFEST}" in refusal([tmp_path / "o"],
                                                                         capsys)
    (course / release.MANIFEST).write_text("pyproject.toml\npooling_lab/__init__.py\n"
                                           "notebooks/solutions/nb01.py\n../outside.txt\n")
    (tmp_path / "outside.txt").write_text("not the course's")
    assert release.course_files() == ["notebooks/solutions/nb01.py", "pooling_lab/__init__.py",
                                      "pyproject.toml"]


@pytest.mark.slow
def test_the_wheel_is_searched_for_solutions_too(course, tmp_path):
    """A file that reached the wheel past the first check (say, a build hook) is caught."""
    solution = (course / "notebooks" / "solutions" / "nb06.py").read_text()
    (course / "pooling_lab" / "leak.py").write_text(solution)
    files = release.course_files() + ["pooling_lab/leak.py"]
    settings = release.Settings(tmp_path / "out", files)
    with pytest.raises(ValueError, match="the wheel's pooling_lab/leak.py shows the solution "
                                         "of .*my_avg_pool_separable"):
        release.run(settings)
    assert not (tmp_path / "out" / WHEEL).exists()
