"""Time ``grade`` on a class of whole-course submissions (issue 26: 30 in 2 minutes, --jobs 2).

    python tests/timing/grade_a_class.py [--students 30] [--jobs 2] [--sandbox auto]

Each submission is every notebook's cells in one file, figures and all (5-6 MB), with the
reference solutions pasted into the exercise cells: the whole course, solved. Prints the
seconds and the class's totals (each should be full marks).
"""

import argparse
import csv
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def solved_course() -> dict:
    """One notebook of every notebook's cells, each exercise cell holding its solution."""
    solutions = {}
    for path in sorted((ROOT / "notebooks" / "solutions").glob("nb*.py")):
        source = path.read_text(encoding="utf-8").replace("from pooling_lab import check\n", "")
        source = source.split("\nEXERCISES")[0]            # the table the solutions file keeps
        for name in re.findall(r"^def (my_\w+|to_\w+)\(", source, flags=re.M):
            solutions[name] = source
    whole, pasted = None, set()
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            source = "".join(cell["source"])
            for name, solution in solutions.items():
                if cell["cell_type"] == "code" and f"def {name}(" in source and \
                        solution not in pasted:
                    cell["source"], cell["id"] = solution, f"{cell.get('id', 'cell')}-solved"
                    pasted.add(solution)
        whole = notebook if whole is None else dict(whole, cells=whole["cells"] +
                                                    notebook["cells"])
    return whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sandbox", default="auto", choices=("auto", "require", "off"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        submissions = Path(folder, "submissions")
        submissions.mkdir()
        text = json.dumps(solved_course())
        for number in range(1, args.students + 1):
            (submissions / f"student{number:02}.ipynb").write_text(text, encoding="utf-8")
        start = time.monotonic()
        subprocess.run([sys.executable, "-m", "pooling_lab", "grade", "--seed", "1",
                        "--jobs", str(args.jobs), "--sandbox", args.sandbox,
                        "--out", str(Path(folder, "grades.csv")), str(submissions)],
                       check=True, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        seconds = time.monotonic() - start
        with open(Path(folder, "grades.csv"), newline="") as table:
            totals = [row["total"] for row in csv.DictReader(table)]
    print(f"{args.students} submissions of {len(text) / 1e6:.1f} MB, --jobs {args.jobs}, "
          f"sandbox {args.sandbox}: {seconds:.1f} s; totals (max first): {' '.join(totals)}")


if __name__ == "__main__":
    main()
