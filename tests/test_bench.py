"""The bench and demo commands, on tiny cases: what they print and write (never how fast)."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import pooling_lab
from pooling_lab import __main__ as cli
from pooling_lab import bench

TABLE_HEADER = ("| case | pass | style | median ms | spread ms | x naive | peak MB | x copy "
                "| torch ms | x torch |")


def run_cli(argv, capsys):
    code = cli.main([*argv, "--threads", "0"])     # 0: no restart, run in this process
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --------------------------------------------------------------------------------------------
# bench
# --------------------------------------------------------------------------------------------

def test_bench_quick_prints_a_table_and_writes_json_with_every_op_pass_and_style(tmp_path, capsys):
    path = tmp_path / "bench.json"
    code, out, err = run_cli(["bench", "--quick", "--no-torch", "--json", str(path)], capsys)
    assert code == 0
    assert TABLE_HEADER in out
    assert "Machine:" in out and "NumPy" in out
    assert "· strided" in err                        # progress goes to stderr
    results = json.loads(path.read_text())
    assert set(results["machine"]) >= {"cpu", "cores", "load_average_1_5_15", "numpy", "blas"}
    rows = results["cases"][0]["rows"]
    combos = {(row["op"], row["pass_"], row["style"]) for row in rows}
    assert combos == {(op, pass_, style) for op in bench.OPS for pass_ in bench.PASSES
                      for style in ("naive", "stacked", "strided")}
    for row in rows:
        assert row["median_ms"] > 0 and row["spread_ms"] >= 0 and row["repeats"] == 3
        assert row["torch_ms"] is None and row["estimated"] is False
        assert row["peak_bytes"] is not None and row["peak_bytes"] >= 0
        assert (row["x_copy"] is not None) == (row["pass_"] == "forward")
        assert (row["x_naive"] is not None) == (row["style"] != "naive")
    by_key = {(row["op"], row["pass_"], row["style"]): row for row in rows}
    for op in bench.OPS:
        step = by_key[op, "step", "strided"]
        parts = sum(by_key[op, pass_, "strided"]["median_ms"] for pass_ in ("forward", "backward"))
        assert step["median_ms"] == pytest.approx(parts)
        naive, strided = by_key[op, "forward", "naive"], by_key[op, "forward", "strided"]
        assert strided["x_naive"] == pytest.approx(naive["median_ms"] / strided["median_ms"])


def test_bench_options_choose_the_case(tmp_path, capsys):
    path = tmp_path / "bench.json"
    code, out, _ = run_cli(["bench", "--op", "conv", "--style", "strided", "--shape", "1", "9",
                            "8", "2", "--kernel", "3", "2", "--stride", "1", "--out-channels",
                            "5", "--dtype", "float64", "--repeats", "2", "--no-torch",
                            "--json", str(path)], capsys)
    assert code == 0
    case = json.loads(path.read_text())["cases"][0]["case"]
    assert case["ops"] == ["conv"] and case["styles"] == ["strided"]
    assert case["shape"] == [1, 9, 8, 2] and case["kernel"] == [3, 2]
    assert case["stride"] == [1, 1] and case["out_channels"] == 5 and case["dtype"] == "float64"
    assert "conv x (1, 9, 8, 2) w (3, 2, 2, 5) stride 1 float64" in out


def test_slow_naive_runs_on_a_crop_and_is_marked_estimated(monkeypatch):
    monkeypatch.setattr(bench, "NAIVE_SECONDS", 0.0)          # pretend every full run is slow
    case = bench.Case(ops=("max",), shape=(1, 40, 40, 2), kernel=(3, 3), stride=(2, 2),
                      styles=("naive", "strided"))
    assert bench._crop_shape(case) == (1, 33, 33, 2)          # 16 x 16 output positions
    rows = bench.run_case(case, repeats=3)
    naive = [row for row in rows if row.style == "naive"]
    assert all(row.estimated and row.peak_bytes is None for row in naive)
    assert all(not row.estimated for row in rows if row.style == "strided")
    assert "| ~" in bench.format_table(rows)


def test_a_failing_style_is_reported_and_the_others_still_run(monkeypatch):
    def broken(*args, **kwargs):
        raise OverflowError("Python integer 256 out of bounds for uint8")

    monkeypatch.setattr(pooling_lab.naive, "max_pool_backward", broken)
    case = bench.Case(ops=("max",), shape=(1, 12, 12, 2), styles=("naive", "strided"))
    rows = bench.run_case(case, repeats=2)
    naive = [row for row in rows if row.style == "naive"]
    strided = [row for row in rows if row.style == "strided"]
    assert all(row.error == "OverflowError: Python integer 256 out of bounds for uint8"
               and row.median_ms is None for row in naive)
    assert all(row.error is None and row.median_ms > 0 and row.x_naive is None for row in strided)
    assert "| naive | failed: OverflowError" in bench.format_table(rows)
    target = bench.Target("photo", case, "max", "naive", 100.0)
    result = bench.check_target(target, rows)
    assert result["met"] is None and result["reference"] == "naive failed"
    assert "not measured" in bench.format_targets([result])


def test_peak_bytes_sees_numpy_allocations():
    assert bench.peak_bytes(lambda: np.ones(2**20, dtype=np.uint8)) >= 2**20
    assert bench.peak_bytes(lambda: None) < 2**12


def test_no_torch_column_without_torch():
    assert bench.torch_available("/nonexistent/python") is None
    case = bench.Case(ops=("max",), shape=(1, 8, 8, 1))
    assert bench.torch_times(case, "max", "/nonexistent/python", 2, "wall") is None


def test_targets_are_judged_in_the_right_direction():
    target_torch = next(t for t in bench.TARGETS if t.kind == "torch")
    target_naive = next(t for t in bench.TARGETS if t.kind == "naive")
    target_memory = next(t for t in bench.TARGETS if t.kind == "memory")
    assert len([t for t in bench.TARGETS if t.kind == "torch"]) == 12   # 6 cases x 2 dtypes

    def step(style, **values):
        return bench.Row("c", target_torch.op, "step", style, 10.0, 1.0, 3, **values)

    assert bench.check_target(target_torch, [step("strided", x_torch=1.2)])["met"] is True
    too_slow = target_torch.limit + 0.1
    assert bench.check_target(target_torch, [step("strided", x_torch=too_slow)])["met"] is False
    assert bench.check_target(target_torch, [step("strided")])["met"] is None    # no PyTorch
    naive_rows = [bench.Row("c", "max", "step", "strided", 1.0, 0.1, 3, x_naive=99.0),
                  bench.Row("c", "max", "step", "naive", 99.0, 1.0, 3)]
    assert bench.check_target(target_naive, naive_rows)["met"] is False
    x_bytes = np.prod(target_memory.case.shape) * 4
    memory_rows = [bench.Row("c", "max", "step", "strided", 1.0, 0.1, 3, peak_bytes=3 * x_bytes),
                   bench.Row("c", "max", "step", "stacked", 1.0, 0.1, 3, peak_bytes=20 * x_bytes)]
    result = bench.check_target(target_memory, memory_rows)
    assert result["met"] is True and result["value"] == pytest.approx(3.0)
    assert "stacked peak 320 MB = 20.0x" in result["reference"]
    table = bench.format_targets([result, bench.check_target(target_naive, naive_rows)])
    assert "| yes |" in table and "| **NO** |" in table
    assert "3.00x the input (at most 4x)" in table and "99x faster (at least 100x)" in table


# --------------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------------

def test_demo_reports_agreement_and_writes_a_png(tmp_path, capsys):
    path = tmp_path / "demo.png"
    code, out, _ = run_cli(["demo", "chelsea", "--size", "24", "--output", str(path)], capsys)
    assert code == 0
    assert "The three styles agree" in out and str(path) in out
    for op in ("max · size 3 · stride 2", "avg · size 3 · stride 2", "conv · 3x3 Laplacian"):
        assert out.count(op) >= 3                       # one line per style
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


def test_demo_rejects_an_unknown_image(capsys):
    with pytest.raises(SystemExit, match="IMAGE must be one of"):
        cli.main(["demo", "no-such-photo", "--threads", "0"])


# --------------------------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command,option", [("bench", "--targets"), ("demo", "--output")])
def test_help_lists_the_options(command, option, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main([command, "--help"])
    assert stopped.value.code == 0
    assert option in capsys.readouterr().out


def test_one_blas_thread_means_restarting_with_the_variables_set(monkeypatch):
    calls = []

    def fake_run(command, env):
        calls.append((command, env))
        return subprocess.CompletedProcess(command, 0)

    for name in cli.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli.subprocess, "run", fake_run)
    assert cli.main(["bench", "--quick", "--threads", "1"]) == 0
    (command, env), = calls
    assert command == [sys.executable, "-m", "pooling_lab", "bench", "--quick", "--threads", "1"]
    assert all(env[name] == "1" for name in cli.THREAD_VARIABLES)
