"""The bench command and its PyTorch worker, on tiny cases: what they print and write (never
how fast), and the one-line errors of the command line."""

import io
import json
import os
import signal
import subprocess
import sys
import time
import types
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import pooling_lab
from pooling_lab import cli
from pooling_lab import measure
from pooling_lab.benchmark import bench, torch_worker

TABLE_HEADER = ("| case | pass | style | median ms | spread ms | x naive | peak MB | x copy "
                "| torch ms | x torch |")


def run_cli(argv, capsys):
    """Run the command in this process; return (exit code, stdout, stderr)."""
    try:
        code = cli.main([*argv, "--threads", "0"])     # 0: no restart, run in this process
    except SystemExit as stopped:                      # argparse's own errors
        code = stopped.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --------------------------------------------------------------------------------------------
# bench: the tables
# --------------------------------------------------------------------------------------------

def test_bench_quick_prints_tables_legend_and_json_with_every_op_pass_and_style(tmp_path, capsys):
    path = tmp_path / "bench.json"
    code, out, err = run_cli(["bench", "--quick", "--no-torch", "--json", str(path)], capsys)
    assert code == 0
    assert TABLE_HEADER in out
    assert "Machine:" in out and "NumPy" in out
    assert "· fast" in err                           # progress goes to stderr
    assert bench.LEGEND in out and "spread ms   the interquartile range" in out
    assert bench.ESTIMATED_NOTE not in out           # nothing was estimated
    assert "| case | pass | strided ms | fast ms | strided / fast |" in out
    results = json.loads(path.read_text())
    assert set(results["machine"]) >= {"cpu", "cores", "load_average_1_5_15", "numpy", "blas"}
    rows = results["cases"][0]["rows"]
    combos = {(row["op"], row["pass_"], row["style"]) for row in rows}
    assert combos == {(op, pass_, style) for op in bench.OPS for pass_ in bench.PASSES
                      for style in ("naive", "stacked", "strided", "fast")}
    for row in rows:
        assert row["median_ms"] > 0 and row["spread_ms"] >= 0 and row["repeats"] == 3
        assert row["torch_ms"] is None and row["estimated"] is False
        assert row["peak_bytes"] is not None and row["peak_bytes"] >= 0
        assert (row["x_copy"] is not None) == (row["pass_"] == "forward")
        assert (row["x_naive"] is not None) == (row["style"] != "naive")
    by_key = {(row["op"], row["pass_"], row["style"]): row for row in rows}
    for op in bench.OPS:
        step = by_key[op, "step", "fast"]
        parts = sum(by_key[op, pass_, "fast"]["median_ms"] for pass_ in ("forward", "backward"))
        assert step["median_ms"] == pytest.approx(parts)
        naive, fast = by_key[op, "forward", "naive"], by_key[op, "forward", "fast"]
        assert fast["x_naive"] == pytest.approx(naive["median_ms"] / fast["median_ms"])


def test_bench_options_choose_the_case(tmp_path, capsys):
    path = tmp_path / "bench.json"
    code, out, _ = run_cli(["bench", "--op", "conv", "--style", "strided", "--shape", "1", "9",
                            "8", "2", "--kernel", "3", "2", "--stride", "1", "--padding", "1",
                            "--dilation", "2", "1", "--out-channels", "5", "--dtype", "float64",
                            "--repeats", "2", "--no-torch", "--json", str(path)], capsys)
    assert code == 0
    case = json.loads(path.read_text())["cases"][0]["case"]
    assert case["ops"] == ["conv"] and case["styles"] == ["strided"]
    assert case["shape"] == [1, 9, 8, 2] and case["kernel"] == [3, 2]
    assert case["stride"] == [1, 1] and case["padding"] == [1, 1] and case["dilation"] == [2, 1]
    assert case["out_channels"] == 5 and case["dtype"] == "float64"
    assert "conv x (1, 9, 8, 2) w (3, 2, 2, 5) stride 1 padding 1 dilation 2x1 float64" in out
    assert "strided / fast" not in out               # one style: no comparison table


def test_comparison_table_sets_strided_against_fast():
    rows = [bench.Row("c", "max", "forward", "strided", 6.0, 0.1, 3),
            bench.Row("c", "max", "forward", "fast", 2.0, 0.1, 3),
            bench.Row("c", "max", "backward", "strided", 1.0, 0.1, 3),
            bench.Row("c", "max", "backward", "fast", None, None, 0, error="boom")]
    table = bench.format_comparison(rows)
    assert "| c | forward | 6 | 2 | 3x |" in table
    assert "backward" not in table                   # fast failed: nothing to compare
    assert bench.format_comparison(rows[:1]) == ""


def test_slow_naive_runs_on_a_crop_and_only_then_the_footnote(monkeypatch):
    monkeypatch.setattr(bench, "NAIVE_SECONDS", 0.0)          # pretend every full run is slow
    case = bench.Case(ops=("max",), shape=(1, 40, 40, 2), kernel=(3, 3), stride=(2, 2),
                      styles=("naive", "fast"))
    assert bench._crop_shape(case, "max") == (1, 33, 33, 2)   # 16 x 16 output positions
    rows = bench.run_case(case, repeats=3)
    naive = [row for row in rows if row.style == "naive"]
    assert all(row.estimated and row.peak_bytes is None for row in naive)
    assert all(not row.estimated for row in rows if row.style == "fast")
    assert "| ~" in bench.format_table(rows)
    assert bench.ESTIMATED_NOTE in bench.format_notes(rows)
    fast_only = [row for row in rows if row.style == "fast"]
    assert bench.ESTIMATED_NOTE not in bench.format_notes(fast_only)


def test_crop_keeps_16_windows_with_padding_and_dilation():
    # span 2*(3-1)+1 = 5, stride 2, padding 1 on each side: 15*2 + 5 - 2 = 33 rows for 16 windows
    case = bench.Case(ops=("max", "conv"), shape=(2, 70, 12, 3), kernel=(3, 3), stride=(2, 2),
                      padding=(1, 1), dilation=(2, 2), out_channels=4)
    for op in ("max", "conv"):
        crop = bench._crop_shape(case, op)
        assert crop == (2, 33, 11, 3)     # 5 windows across: (5-1)*2 + 5 - 2 = 11 columns hold them
        assert bench.case_geometry(case, op, crop).out_hw == (16, 5)


def test_copy_limit_counts_the_output_that_padding_and_dilation_give(monkeypatch):
    monkeypatch.setattr(bench.measure, "median_seconds", lambda call, repeats, clock: 1.0)
    same = bench.Case(ops=("avg",), shape=(1, 10, 10, 2), kernel=(3, 3), stride=(1, 1),
                      padding=(1, 1))
    assert bench.copy_limit(same, "avg", 1, None) == pytest.approx(1.0)   # out = x: 2 x bytes
    valid = replace(same, padding=(0, 0))                           # out 8x8
    assert bench.copy_limit(valid, "avg", 1, None) == pytest.approx((100 + 64) / 200)
    dilated = replace(same, dilation=(2, 2))                        # span 5: out 8x8
    assert bench.copy_limit(dilated, "avg", 1, None) == pytest.approx((100 + 64) / 200)
    conv = replace(valid, ops=("conv",), out_channels=6)            # 8x8x6 out of 10x10x2
    assert bench.copy_limit(conv, "conv", 1, None) == pytest.approx((200 + 384) / 400)


def test_a_failing_style_is_reported_and_the_others_still_run(monkeypatch):
    def broken(*args, **kwargs):
        raise OverflowError("Python integer 256 out of bounds for uint8")

    monkeypatch.setattr(pooling_lab.naive, "max_pool_backward", broken)
    case = bench.Case(ops=("max",), shape=(1, 12, 12, 2), styles=("naive", "fast"))
    rows = bench.run_case(case, repeats=2)
    naive = [row for row in rows if row.style == "naive"]
    fast = [row for row in rows if row.style == "fast"]
    assert all(row.error == "OverflowError: Python integer 256 out of bounds for uint8"
               and row.median_ms is None for row in naive)
    assert all(row.error is None and row.median_ms > 0 and row.x_naive is None for row in fast)
    assert "| naive | failed: OverflowError" in bench.format_table(rows)
    target = bench.Target("photo", case, "max", "naive", 100.0)
    result = bench.check_target(target, rows)
    assert result["met"] is None and result["reference"] == "naive failed"
    assert "not measured" in bench.format_targets([result])


def test_time_runs_says_how_long_a_slow_call_will_take(monkeypatch):
    calls, messages = [], []
    assert len(bench.time_runs(lambda: calls.append(1), 3, progress=messages.append)) == 3
    assert messages == [] and len(calls) == 4                  # quick: silent; one warm-up
    monkeypatch.setattr(bench, "SLOW_CALL_SECONDS", -1.0)      # every call counts as slow
    bench.time_runs(lambda: None, 3, progress=messages.append, label="naive max forward: ")
    assert len(messages) == 1
    assert messages[0].startswith("naive max forward: 3 timed runs of about 0.0 s each")


def test_peak_bytes_sees_numpy_allocations():
    assert measure.peak_bytes(lambda: np.ones(2**20, dtype=np.uint8)) >= 2**20
    assert measure.peak_bytes(lambda: None) < 2**12


def test_machine_line_counts_blas_threads():
    state = bench.machine_state("wall")
    for threads, text in (("1", "(1 BLAS thread"), ("2", "(2 BLAS threads"),
                          (None, "(BLAS threads as BLAS chooses")):
        line = bench.format_state({**state, "blas_threads": threads, "openblas_coretype": None})
        assert text + ")" in line
    line = bench.format_state({**state, "blas_threads": "1", "openblas_coretype": "Haswell"})
    assert "(1 BLAS thread, OPENBLAS_CORETYPE=Haswell)" in line


def test_targets_judge_fast_and_show_strided_beside_it():
    torch_targets = [t for t in bench.TARGETS if t.kind == "torch"]
    target_torch = torch_targets[0]
    photo = {t.style: t for t in bench.TARGETS if t.kind == "naive"}
    target_memory = next(t for t in bench.TARGETS if t.kind == "memory")
    assert len(torch_targets) == 12                                    # 6 cases x 2 dtypes
    assert all(t.style == "fast" and set(t.case.styles) == {"strided", "fast"}
               for t in torch_targets)
    assert photo["fast"].limit == 100 and photo["strided"].limit == 30
    assert photo["fast"].case is photo["strided"].case                 # measured once

    def step(style, **values):
        return bench.Row("c", target_torch.op, "step", style, 10.0, 1.0, 3, **values)

    result = bench.check_target(target_torch, [step("fast", x_torch=1.2),
                                               step("strided", x_torch=9.0)])
    assert result["met"] is True and result["strided"] == "10 ms, 9.00x torch"
    too_slow = target_torch.limit + 0.1
    assert bench.check_target(target_torch, [step("fast", x_torch=too_slow)])["met"] is False
    assert bench.check_target(target_torch, [step("fast")])["met"] is None      # no PyTorch
    assert bench.check_target(target_torch, [step("strided", x_torch=1.0)])["met"] is None

    naive_rows = [bench.Row("c", "max", "step", "fast", 1.0, 0.1, 3, x_naive=99.0),
                  bench.Row("c", "max", "step", "strided", 3.0, 0.1, 3, x_naive=33.0),
                  bench.Row("c", "max", "step", "naive", 99.0, 1.0, 3)]
    fast_result = bench.check_target(photo["fast"], naive_rows)
    strided_result = bench.check_target(photo["strided"], naive_rows)
    assert fast_result["met"] is False and strided_result["met"] is True
    assert strided_result["strided"] is None                           # it is the judged one

    x_bytes = np.prod(target_memory.case.shape) * 4
    memory_rows = [bench.Row("c", "max", "step", "fast", 1.0, 0.1, 3, peak_bytes=3 * x_bytes),
                   bench.Row("c", "max", "step", "strided", 1.0, 0.1, 3, peak_bytes=5 * x_bytes),
                   bench.Row("c", "max", "step", "stacked", 1.0, 0.1, 3, peak_bytes=20 * x_bytes)]
    result = bench.check_target(target_memory, memory_rows)
    assert result["met"] is True and result["value"] == pytest.approx(3.0)
    assert result["reference"] == "stacked peak 320 MB = 20.00x the input"
    assert result["strided"] == "peak 80 MB, 5.00x the input"
    table = bench.format_targets([result, fast_result, strided_result])
    assert "| yes |" in table and "| **NO** |" in table
    assert "3.00x the input (at most 4x)" in table and "99x faster (at least 100x)" in table
    assert "33x faster (at least 30x)" in table
    no_memory = [replace(row, peak_bytes=None) for row in memory_rows]   # --no-memory
    assert bench.check_target(target_memory, no_memory)["met"] is None


def test_targets_run_measures_each_case_once_and_prints_every_table(monkeypatch, tmp_path,
                                                                   capsys):
    tiny = bench.Case(ops=("max",), shape=(1, 12, 12, 2), styles=("naive", "strided", "fast"))
    monkeypatch.setattr(bench, "TARGETS", [
        bench.Target("tiny: fast vs naive", tiny, "max", "naive", 1e-9),
        bench.Target("tiny: strided vs naive", tiny, "max", "naive", 1e9, "strided")])
    path = tmp_path / "targets.json"
    code, out, _ = run_cli(["bench", "--targets", "--repeats", "2", "--no-torch",
                            "--json", str(path)], capsys)
    assert code == 0
    assert out.count(TABLE_HEADER) == 1                       # one case, measured once
    assert "| case | pass | strided ms | fast ms | strided / fast |" in out
    assert "| tiny: fast vs naive | fast |" in out and "| yes |" in out
    assert "| tiny: strided vs naive | strided |" in out and "| **NO** |" in out
    results = json.loads(path.read_text())
    assert [target["met"] for target in results["targets"]] == [True, False]
    assert results["targets"][0]["strided"].endswith("x faster")


# --------------------------------------------------------------------------------------------
# bench: the command line
# --------------------------------------------------------------------------------------------

BAD_BENCH_OPTIONS = [
    (["--repeats", "0"], "--repeats must be a positive integer (1 to 2,147,483,647); got 0"),
    (["--shape", "-1", "8", "8", "3"], "--shape N must be a positive integer"),
    (["--shape", "2", "8", "0", "3"], "--shape W must be a positive integer"),
    (["--out-channels", "-3"], "--out-channels must be a positive integer"),
    (["--out-channels", "0"], "--out-channels must be a positive integer"),
    (["--kernel", "3", "3", "3"], "--kernel must be a positive integer or a pair"),
    (["--stride", "0"], "--stride must be a positive integer"),
    (["--padding", "1", "1", "1"], "--padding takes one or two integers >= 0"),
    (["--padding", "-1"], "--padding takes one or two integers >= 0; got [-1]"),
    (["--shape", "1", "2", "2", "1"], "spans (3, 3) pixels, larger than the padded input"),
    (["--padding", "2"], "is too large for pooling"),
    (["--json", "/nonexistent/folder/x.json"], "the folder '/nonexistent/folder' does not exist"),
    (["--repeats", "many"], "argument --repeats: invalid int value: 'many'"),
    (["--shape", "1", "99999", "99999", "3"], "(1, 99999, 99999, 3)"),
    (["--shape", "1", "9999", "9999", "3", "--op", "max"],
     "--shape 1 9999 9999 3: max's arrays (x, output) would take 1,499,640,024 bytes in "
     "float32; the bench allows at most 1,073,741,824 bytes (1 GiB)"),
    (["--shape", "1", "9000", "9000", "3", "--op", "conv", "--out-channels", "8"],
     "conv's arrays (x, output, w) would take 1,619,712,896 bytes"),
    (["--torch-python", "/nonexistent"], "--torch-python must be an executable Python, a path "
                                         "or a name on PATH; got '/nonexistent', which is not"),
    (["--torch-python", __file__], "--torch-python must be an executable Python"),
]


@pytest.mark.parametrize("options,message", BAD_BENCH_OPTIONS)
def test_a_bad_bench_option_ends_with_one_line_naming_it(options, message, capsys):
    code, out, err = run_cli(["bench", "--no-torch", *options], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and err.startswith("pooling-lab bench: error:")


def test_the_command_line_ends_a_bad_option_without_a_traceback():
    done = subprocess.run([sys.executable, "-m", "pooling_lab", "bench", "--out-channels", "0"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("pooling-lab bench: error: --out-channels must be a positive integer "
                           "(1 to 2,147,483,647); got 0\n")


def test_case_bytes_counts_x_the_output_and_the_weights():
    case = bench.Case(shape=(2, 10, 8, 3), kernel=(3, 3), stride=(2, 2), out_channels=5,
                      dtype="float64")
    # max: x 2*10*8*3 + out 2*4*3*3 numbers; conv adds w 3*3*3*5 and has 5 output channels
    assert bench.case_bytes(case, "max") == (480 + 72) * 8
    assert bench.case_bytes(case, "conv") == (480 + 2 * 4 * 3 * 5 + 135) * 8


def test_running_out_of_memory_ends_with_one_line(monkeypatch, capsys):
    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 224. GiB for an array with shape "
                          "(1, 99999, 99999, 3) and data type float64")

    monkeypatch.setattr(bench, "_arrays", no_memory)
    code, out, err = run_cli(["bench", "--quick", "--no-torch", "--op", "max"], capsys)
    assert code == 2
    assert err.splitlines()[-1] == ("pooling-lab bench: error: out of memory (Unable to "
                                    "allocate 224. GiB for an array with shape (1, 99999, "
                                    "99999, 3) and data type float64); use a smaller case")


def test_a_torch_python_without_torch_only_leaves_the_torch_columns_empty(tmp_path, capsys):
    code, out, err = run_cli(["bench", "--quick", "--op", "max", "--style", "fast",
                              "--repeats", "1", "--no-memory", "--torch-python", "false"],
                             capsys)
    assert code == 0
    assert "PyTorch not importable by false: no torch columns" in err


def test_repeats_wins_over_quick_and_a_note_says_so(tmp_path, capsys):
    path = tmp_path / "bench.json"
    code, _, err = run_cli(["bench", "--quick", "--repeats", "2", "--op", "avg", "--style",
                            "fast", "--no-torch", "--no-memory", "--json", str(path)], capsys)
    assert code == 0
    assert "note: --quick with --repeats 2: 2 timed runs (--repeats wins over --quick)" in err
    case = json.loads(path.read_text())["cases"][0]
    assert case["case"]["shape"] == list(bench.QUICK_SHAPE)
    assert {row["repeats"] for row in case["rows"]} == {2}


@pytest.mark.parametrize("command", ["bench", "demo"])
def test_every_option_has_help(command, capsys):
    parser = cli.build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    options = [action for action in sub._actions if action.dest != "help"]
    assert len(options) >= 5
    assert all(action.help for action in options), [a.dest for a in options if not a.help]
    with pytest.raises(SystemExit) as stopped:
        cli.main([command, "--help"])
    assert stopped.value.code == 0
    assert ("win over --quick" if command == "bench" else "--output") in " ".join(
        capsys.readouterr().out.split())


def test_one_blas_thread_means_restarting_with_the_variables_set(monkeypatch):
    calls = []

    class FakeChild:
        def __init__(self, command, env):
            calls.append((command, env))

        def wait(self):
            return 0

    for name in cli.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli.subprocess, "Popen", FakeChild)
    assert cli.main(["bench", "--quick", "--threads", "1"]) == 0
    (command, env), = calls
    assert command == [sys.executable, "-m", "pooling_lab", "bench", "--quick", "--threads", "1"]
    assert all(env[name] == "1" for name in cli.THREAD_VARIABLES)


# --------------------------------------------------------------------------------------------
# The PyTorch worker (without PyTorch: its protocol and its messages)
# --------------------------------------------------------------------------------------------

def test_no_torch_columns_without_torch():
    messages = []
    assert bench.torch_available("/nonexistent/python") is None
    case = bench.Case(ops=("max",), shape=(1, 8, 8, 1))
    assert bench.torch_times(case, "max", "/nonexistent/python", 2, "wall",
                             progress=messages.append) is None
    assert messages and messages[0].startswith("no PyTorch times for max x (1, 8, 8, 1)")


def test_the_worker_reads_the_case_bench_sends():
    case = bench.Case(ops=("conv",), shape=(2, 9, 8, 3), kernel=(3, 2), stride=(1, 2),
                      padding=(1, 0), dilation=(2, 1), out_channels=5, dtype="float64")
    spec = torch_worker.parse_spec(json.dumps(bench.torch_spec(case, "conv", 4, "cpu")))
    assert vars(spec) == dict(op="conv", shape=(2, 9, 8, 3), kernel=(3, 2), stride=(1, 2),
                              padding=(1, 0), dilation=(2, 1), out_channels=5, dtype="float64",
                              repeats=4, clock="cpu")
    pool = torch_worker.parse_spec(json.dumps(bench.torch_spec(case, "max", 4, "wall")))
    assert pool.op == "max" and pool.out_channels is None


def _good_spec(**changes) -> str:
    case = bench.Case(ops=("max",), shape=(1, 8, 8, 1))
    return json.dumps({**bench.torch_spec(case, "max", 2, "wall"), **changes})


@pytest.mark.parametrize("text,message", [
    ("not json", "the case must be one JSON object with the keys ['clock', 'dilation', "),
    ("[1, 2]", "the case must be one JSON object with the keys"),
    (json.dumps({"op": "max"}), "the case must be one JSON object with the keys"),
    (_good_spec(extra=1), "the case must be one JSON object with the keys"),
    (_good_spec(op="min"), "'op' must be one of ['max', 'avg', 'conv']; got 'min'"),
    (_good_spec(clock="sun"), "'clock' must be one of ['wall', 'cpu']; got 'sun'"),
])
def test_the_worker_refuses_a_case_bench_would_not_write(text, message):
    with pytest.raises(torch_worker.SpecError) as refused:
        torch_worker.parse_spec(text)
    assert message in str(refused.value)


def test_the_worker_says_in_one_line_when_torch_is_missing_or_the_case_is_bad(monkeypatch,
                                                                              capsys):
    monkeypatch.setitem(sys.modules, "torch", None)        # `import torch` raises ImportError
    monkeypatch.setattr(sys, "stdin", io.StringIO(_good_spec()))
    assert torch_worker.main() == torch_worker.NO_TORCH
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith(f"torch_worker: PyTorch is not importable by {sys.executable}")
    monkeypatch.setattr(sys, "stdin", io.StringIO(_good_spec(op="min")))
    assert torch_worker.main() == torch_worker.BAD_SPEC
    assert capsys.readouterr().err.startswith("torch_worker: bad case: 'op' must be one of")


def test_importing_the_package_bench_and_worker_does_not_import_torch():
    code = ("import sys, pooling_lab, pooling_lab.benchmark.bench, pooling_lab.benchmark.torch_worker; "
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "False"


# --------------------------------------------------------------------------------------------
# Output files, a crashing PyTorch, Ctrl-C
# --------------------------------------------------------------------------------------------

def test_json_expands_a_tilde(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    code, out, _ = run_cli(["bench", "--quick", "--op", "avg", "--style", "fast", "--no-torch",
                            "--no-memory", "--json", "~/r.json"], capsys)
    assert code == 0 and f"Wrote {tmp_path / 'r.json'}" in out
    assert json.loads((tmp_path / "r.json").read_text())["interrupted"] is False


def test_a_json_file_that_cannot_be_created_is_refused_before_the_work(monkeypatch, capsys):
    monkeypatch.setattr(bench, "run_case", lambda *args: pytest.fail("the benchmark ran"))
    code, out, err = run_cli(["bench", "--quick", "--no-torch", "--json", "/proc/r.json"],
                             capsys)
    assert code == 2 and out == ""
    assert err.startswith("pooling-lab bench: error: --json '/proc/r.json' cannot be written: ")


def _fake_python(tmp_path, worker_body: str) -> str:
    """An executable that answers bench's version question as a Python with PyTorch would,
    and runs ``worker_body`` (Python, with ``os``, ``signal``, ``sys``, ``time`` and ``calls``,
    the number of earlier runs) when started as the worker."""
    path = tmp_path / "fake-python"
    path.write_text(f"#!{sys.executable}\nimport os, signal, sys, time\n"
                    f"if sys.argv[1:3] == ['-I', '-c']:\n    print('9.9.9')\n    sys.exit()\n"
                    f"log = {str(tmp_path / 'runs')!r}\n"
                    f"calls = len(open(log).readlines()) if os.path.exists(log) else 0\n"
                    f"open(log, 'a').write(str(os.getpid()) + chr(10))\n{worker_body}\n")
    path.chmod(0o755)
    return str(path)


def test_a_crashing_pytorch_is_said_in_one_line_and_run_once_more(tmp_path):
    crash = "os.kill(os.getpid(), signal.SIGSEGV)"
    answer = 'print(\'{"forward": 1.0, "backward": 2.0, "step": 3.0, "version": "9.9.9"}\')'
    case = bench.Case(ops=("max",), shape=(1, 8, 8, 1))
    messages = []
    once = _fake_python(tmp_path, f"if calls == 0:\n    {crash}\n{answer}")
    assert bench.torch_times(case, "max", once, 2, "wall", progress=messages.append) == {
        "forward": 1.0, "backward": 2.0, "step": 3.0, "version": "9.9.9"}
    assert messages == ["PyTorch crashed on max x (1, 8, 8, 1) size 3 stride 2 float32 "
                        "(signal SIGSEGV: no message); retrying once"]
    (tmp_path / "runs").unlink()
    always = _fake_python(tmp_path, f"sys.stderr.write('heap corrupted')\n{crash}")
    assert bench.torch_times(case, "max", always, 2, "wall", progress=messages.append) is None
    assert messages[1:] == ["PyTorch crashed on max x (1, 8, 8, 1) size 3 stride 2 float32 "
                            f"(signal SIGSEGV: heap corrupted); {then}"
                            for then in ("retrying once", "no PyTorch times")]


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs; a zombie (ended, not yet reaped by init) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_ctrl_c_ends_bench_and_its_worker_and_keeps_what_was_measured(tmp_path):
    # The worker ignores SIGINT, as a busy PyTorch may: bench itself must end it.
    python = _fake_python(tmp_path, "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                    "time.sleep(120)")
    path = tmp_path / "r.json"
    bench_process = subprocess.Popen(
        [sys.executable, "-m", "pooling_lab", "bench", "--quick", "--op", "max", "--style",
         "fast", "--no-memory", "--torch-python", python, "--json", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not (tmp_path / "runs").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    worker_pid = int((tmp_path / "runs").read_text())
    os.killpg(bench_process.pid, signal.SIGINT)            # Ctrl-C: the whole process group
    _, err = bench_process.communicate(timeout=60)
    assert bench_process.returncode == 130
    assert [line for line in err.splitlines() if not line.startswith("[bench ")] == [
        "pooling-lab bench: stopped (Ctrl-C)"]
    assert not _running(worker_pid)
    results = json.loads(path.read_text())
    assert results["interrupted"] is True and results["targets"] == []
    rows = results["cases"][0]["rows"]
    assert [(row["style"], row["pass_"]) for row in rows] == [
        ("fast", "forward"), ("fast", "backward"), ("fast", "step")]
    assert all(row["median_ms"] > 0 for row in rows)


# --------------------------------------------------------------------------------------------
# The command protocol of __main__
# --------------------------------------------------------------------------------------------

def test_a_command_is_a_module_named_once_in_the_table(monkeypatch, capsys):
    calls = []
    command = types.ModuleType("pooling_lab.fake")
    command.__doc__ = "Say hello.\n\nA longer description of the fake command.\n\nMore."
    command.add_arguments = lambda parser: parser.add_argument("--times", type=int, default=1)

    def check_arguments(args):
        if args.times < 1:
            raise ValueError(f"--times must be at least 1; got {args.times}")
        return args.times

    def run(times):
        calls.append(times)
        if times == 99:
            raise KeyboardInterrupt
        return 7

    command.check_arguments, command.run = check_arguments, run
    monkeypatch.setitem(sys.modules, "pooling_lab.fake", command)
    monkeypatch.setattr(cli, "COMMANDS", {**cli.COMMANDS, "fake": "fake"})
    assert cli.main(["fake", "--times", "3"]) == 7 and calls == [3]
    assert cli.main(["fake", "--times", "0"]) == 2 and calls == [3]
    assert capsys.readouterr().err == "pooling-lab fake: error: --times must be at least 1; got 0\n"
    assert cli.main(["fake", "--times", "99"]) == 130
    assert capsys.readouterr().err == "pooling-lab fake: stopped (Ctrl-C)\n"
    with pytest.raises(SystemExit):
        cli.main(["fake", "--threads", "1"])            # USES_BLAS not set: no --threads
    assert "unrecognized arguments: --threads 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "Say hello." in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["fake", "--help"])
    assert "A longer description of the fake command." in capsys.readouterr().out
    assert bench.USES_BLAS and pooling_lab.benchmark.demo.USES_BLAS          # both take --threads
