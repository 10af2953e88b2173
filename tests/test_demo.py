"""The demo command on tiny photos: what it prints and draws, and its one-line errors."""

import os
import signal
import subprocess
import sys
import time

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

import pooling_lab
from pooling_lab import cli
from pooling_lab import viz
from pooling_lab.benchmark import demo


def run_cli(argv, capsys):
    """Run the command in this process; return (exit code, stdout, stderr)."""
    code = cli.main([*argv, "--threads", "0"])     # 0: no restart, run in this process
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_demo_reports_agreement_and_writes_a_png(tmp_path, capsys):
    path = tmp_path / "demo.png"
    code, out, _ = run_cli(["demo", "chelsea", "--size", "24", "--output", str(path)], capsys)
    assert code == 0
    assert f"All {len(pooling_lab.STYLES)} styles agree" in out and str(path) in out
    for op in ("max · size 3 · stride 2", "avg · size 3 · stride 2", "conv · 3x3 Laplacian"):
        for style in pooling_lab.STYLES:
            assert any(line.startswith(op) and f" {style} " in line for line in out.splitlines())
    with Image.open(path) as picture:
        assert picture.format == "PNG" and picture.width > 600


def test_demo_reads_an_image_file(tmp_path, capsys):
    image = tmp_path / "tiny.png"
    pixels = np.random.default_rng(0).integers(0, 256, size=(30, 20, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(image)
    code, out, _ = run_cli(["demo", str(image), "--size", "20", "--pool", "2", "--stride", "1",
                            "--output", str(tmp_path / "out.png")], capsys)
    assert code == 0
    assert "tiny.png, x of shape (1, 20, 13, 3)" in out
    assert "max · size 2 · stride 1" in out


def test_demo_draws_with_viz_and_leaves_the_backend_alone(tmp_path, monkeypatch):
    def no_switching(*args, **kwargs):
        raise AssertionError("the demo must not switch matplotlib's backend")

    monkeypatch.setattr(matplotlib, "use", no_switching)
    monkeypatch.setattr(plt, "switch_backend", no_switching)
    drawn = []
    for name in ("show_image", "show_gradient"):
        original = getattr(viz, name)
        monkeypatch.setattr(viz, name, lambda *args, _name=name, _original=original, **kwargs:
                            drawn.append(_name) or _original(*args, **kwargs))
    figures_before = plt.get_fignums()
    x = pooling_lab.images.load("coffee", size=20)
    results = demo.tour(x, "coffee", output=str(tmp_path / "tour.pdf"), show=lambda line: None)
    assert results["agree"] and results["figure"].endswith("tour.pdf")
    assert sorted(drawn) == ["show_gradient"] * 3 + ["show_image"] * 4
    assert plt.get_fignums() == figures_before          # no pyplot figure left open


def _text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("not a picture\n")
    return str(path)


def _nan_file(tmp_path):
    path = tmp_path / "nan.tif"
    Image.fromarray(np.array([[np.nan, 1.0]], np.float32), "F").save(path)
    return str(path)


BAD_DEMO_ARGUMENTS = [
    (lambda tmp: [_text_file(tmp)], "IMAGE '{tmp}/notes.txt' could not be loaded: "),
    (lambda tmp: [str(tmp)], "IMAGE must be one of ['astronaut', 'chelsea', 'coffee', "
                             "'grace_hopper'] or an image file; got '{tmp}'"),
    (lambda tmp: ["no-such-photo"], "IMAGE must be one of"),
    (lambda tmp: ["--size", "0"], "--size must be a positive integer (1 to 2,147,483,647); got 0"),
    (lambda tmp: ["--pool", "0"], "--pool must be a positive integer (1 to 2,147,483,647); got 0"),
    (lambda tmp: ["--stride", "0"], "--stride must be a positive integer"),
    (lambda tmp: ["--size", "40", "--pool", "200"],
     "--pool 200 is larger than the photo, 40x40 pixels at --size 40"),
    (lambda tmp: ["--output", "/nonexistent/x.png"],
     "--output '/nonexistent/x.png': the folder '/nonexistent' does not exist"),
    (lambda tmp: ["--output", str(tmp)], "--output must name a file; got the folder"),
    (lambda tmp: ["--output", str(tmp / "x.foo")], "--output must end in one of ["),
    (lambda tmp: ["--pool", "two"], "argument --pool: invalid int value: 'two'"),
    (lambda tmp: ["--size", "100000"],
     f"--size must be from 1 to {demo.LARGEST_SIZE} pixels (the naive style already takes "
     f"minutes at {demo.LARGEST_SIZE}); got 100000"),
    (lambda tmp: [_nan_file(tmp), "--size", "8", "--pool", "1"],
     "IMAGE '{tmp}/nan.tif' holds NaN or infinite values; the demo needs a photo of finite "
     "numbers"),
]


@pytest.mark.parametrize("arguments,message", BAD_DEMO_ARGUMENTS)
def test_a_bad_demo_argument_ends_with_one_line_before_any_work(arguments, message, tmp_path,
                                                                 monkeypatch, capsys):
    def no_work(*args, **kwargs):
        raise AssertionError("the tour ran although an argument was bad")

    monkeypatch.setattr(demo, "tour", no_work)
    try:
        code = cli.main(["demo", *arguments(tmp_path), "--threads", "0"])
    except SystemExit as stopped:                   # argparse's own errors
        code = stopped.code
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("pooling-lab demo: error:")
    assert message.format(tmp=tmp_path) in captured.err


def test_demo_expands_a_tilde_in_output(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    code, out, _ = run_cli(["demo", "coffee", "--size", "16", "--output", "~/tour.png"], capsys)
    assert code == 0 and (tmp_path / "tour.png").is_file()
    assert f"Wrote {tmp_path / 'tour.png'}" in out


@pytest.mark.parametrize("output,message", [
    ("x.pgf", "--output must end in one of ["),             # PGF needs xelatex: refused first
    ("/proc/x.png", "--output '/proc/x.png' cannot be written: "),
])
def test_an_output_matplotlib_cannot_write_is_refused_before_the_tour(output, message,
                                                                      monkeypatch, capsys):
    monkeypatch.setattr(demo, "tour", lambda *args, **kwargs: pytest.fail("the tour ran"))
    code, out, err = run_cli(["demo", "--size", "16", "--output", output], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("pooling-lab demo: error: ") and message in err
    assert "'pgf'" not in err


def test_styles_that_disagree_end_with_their_own_exit_status(tmp_path, monkeypatch, capsys):
    forward = pooling_lab.fast.max_pool_forward
    monkeypatch.setattr(pooling_lab.fast, "max_pool_forward",
                        lambda *args, **kwargs: (lambda out, cache: (out + 1, cache))(
                            *forward(*args, **kwargs)))
    code, out, _ = run_cli(["demo", "coffee", "--size", "16", "--output",
                            str(tmp_path / "x.png")], capsys)
    assert code == demo.DISAGREE == 3
    assert f"All {len(pooling_lab.STYLES)} styles DISAGREE: largest difference" in out


def test_ctrl_c_ends_the_demo_with_one_line_and_status_130():
    # The default --threads 1 restarts the command in a child: the signal sent to the parent
    # alone must reach the child, which prints the one line.
    demo_process = subprocess.Popen(
        [sys.executable, "-m", "pooling_lab", "demo", "--size", "700"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert demo_process.stdout.readline().startswith("Photo: astronaut")
    time.sleep(1)                                   # well into the naive style's loops
    demo_process.send_signal(signal.SIGINT)
    out, err = demo_process.communicate(timeout=60)
    assert demo_process.returncode == 130
    assert err == "pooling-lab demo: stopped (Ctrl-C)\n"
