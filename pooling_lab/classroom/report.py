"""What a grading run tells people: each student's feedback (Markdown and HTML) and the class
report for the teacher (``report.html`` with a histogram of totals, ``totals.png``).

Every text that comes from a submission (its file name, its code, the checker's message about
it) is escaped with ``html.escape`` and its control characters written out; no page holds a
script, and a student's page holds everything it shows (a little CSS, no link). How long a
message or an answer may be, :func:`.sandbox.judge_notebook` has already seen to.
"""

import collections
import html

from .exercises import EXERCISES
from .gradebook import Row, earned, escaped, totals

STYLE = ("<style>body{font-family:sans-serif;max-width:60em;margin:auto}pre{background:#f4f4f4;"
         "white-space:pre-wrap;padding:.5em}td,th{padding:.2em .6em;border-bottom:1px solid #ccc}"
         ".ok{color:#060}.no{color:#a00}</style>")


def _text(value) -> str:
    return html.escape(escaped(value))


def _page(title: str, body: list) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_text(title)}'
            f"</title>{STYLE}</head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _message(row: Row, name: str) -> str:
    verdict = row.verdicts.get(name)
    return verdict.message if verdict else f"NOT SOLVED {name}: not graded."


def feedback(row: Row, table: dict, penalty: float, about: str) -> tuple[str, str]:
    """``(markdown, html)`` of one row's feedback; ``about`` says how it was graded."""
    raw, total = totals(row, table, penalty)
    full, manual = sum(sum(parts.values()) for parts in table.values()), row.manual.items()
    who = row.student.name if row.student else row.name
    title = (f"{who}: {total:g} points ({raw - sum(p for _, (p, _) in manual):g} of {full:g} "
             f"from the exercises)" if manual else f"{who}: {total:g} of {full:g} points")
    notes = [about] + [f"Handed in {row.late_days:.1f} days late: {raw:g} points before the "
                       f"penalty."] * bool(row.late_days) + [f"Note: {note}" for note in row.notes]
    md = [f"# {escaped(title)}", *(f"\n{escaped(note)}" for note in notes)]
    page = [f"<h1>{_text(title)}</h1>", *(f"<p>{_text(note)}</p>" for note in notes),
            "<table><tr><th>exercise</th><th>points</th><th>parts</th></tr>"]
    sections = []                                       # the page's, below its table
    for name, parts in table.items():
        got, message = earned(row, name, table), escaped(_message(row, name))
        score = f"{sum(got.values()):g} of {sum(parts.values()):g}"
        split = ", ".join(f"{part} {got[part]:g}/{points:g}" for part, points in parts.items())
        kind = "ok" if all(got.values()) else "no"
        page.append(f'<tr><td><code>{name}</code></td><td class="{kind}">{score}</td>'
                    f"<td>{_text(split)}</td></tr>")
        heading = f"{name} (notebook {EXERCISES[name].notebook}): {score}"
        md += ["", f"## {heading}", f"Parts: {split}.", "", "```text", message, "```"]
        sections += [f"<h2>{_text(heading)}</h2>", f"<p>Parts: {_text(split)}.</p>",
                     f"<pre>{html.escape(message)}</pre>"]
        if answer := row.answers.get(name):
            sections += ["<p>Your answer:</p>", f"<pre>{_text(answer)}</pre>"]
    page += [f"<tr><td>{_text(item)}</td><td>{points:g}</td><td>{_text(comment)}</td></tr>"
             for item, (points, comment) in manual] + ["</table>", *sections]
    md += [f"\n## {escaped(item)}: {points:g}\n\n{escaped(comment)}" for item, (points, comment)
           in manual]
    return "\n".join(md) + "\n", _page(title, page)


def histogram(rows: list, table: dict, penalty: float, path) -> None:
    """A PNG histogram of the class's totals."""
    from matplotlib.figure import Figure         # not pyplot: no window, no global state
    figure = Figure(figsize=(6, 3), dpi=100)
    axes = figure.subplots()
    axes.hist([totals(row, table, penalty)[1] for row in rows], bins=20, color="#4477aa")
    axes.set(xlabel="total points", ylabel="students", title="Totals of the class")
    figure.tight_layout()
    figure.savefig(path)


def class_report(rows: list, table: dict, copies: list, seed: int) -> str:
    """The teacher's page: per exercise, who solved it and the commonest failures (one
    anonymised example each); then the copy pairs, never marked down automatically."""
    graded = [row for row in rows if row.file]
    page = [f"<h1>Class report: {len(graded)} files graded (seed {seed})</h1>",
            '<img src="totals.png" alt="a histogram of the totals">', "<h2>To look at</h2><ul>"]
    page += [f"<li>{_text(row.label or row.student.name)}: {_text(note)}</li>"
             for row in rows for note in row.notes if not note.startswith("not defined")]
    page.append("</ul>")
    for name in table:
        failures = collections.defaultdict(list)
        for row in graded:
            verdict = row.verdicts.get(name)
            if verdict is not None and not verdict.passed:
                failures[escaped(verdict.message.strip().split("\n")[0])[:200]].append(row)
        solved = sum(bool(row.verdicts.get(name) and row.verdicts[name].passed) for row in graded)
        page.append(f"<h2><code>{name}</code>: solved by {solved} of {len(graded)}</h2>")
        for first_line, who in sorted(failures.items(), key=lambda pair: -len(pair[1]))[:3]:
            example = _message(who[0], name)
            for private in {who[0].name, *(who[0].student or ())[:3]} - {""}:
                example = example.replace(str(private), "a student")
            page += [f"<h3>{len(who)} of {len(graded)}: {_text(first_line)}</h3>",
                     f"<pre>{_text(example)}</pre>"]
    page += ["<h2>Near-identical answers (for you to read; no mark is changed)</h2>",
             "<p>Not checked: <code>pip install pooling_lab[classroom]</code> brings "
             "copydetect.</p>" if copies is None else "<p>None found.</p>" if not copies else
             "<table><tr><th>answer</th><th>like</th><th>similarity</th></tr>" + "".join(
                 f"<tr><td>{_text(one)}</td><td>{_text(other)}</td><td>{score:.0%}</td></tr>"
                 for one, other, score in copies) + "</table>"]
    return _page("Class report", page)
