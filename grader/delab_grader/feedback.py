"""``delab feedback``: one HTML page per student from the recorded results.

Pages show every message, hidden checks included, but never test code: they are built from the
grading results, not from the executed notebook.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

from delab_grader.batch import discover, stored_result
from delab_grader.course import NOTEBOOK_ID, Course
from delab_grader.grading import SubmissionResult
from delab_grader.release import write_atomic

STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.4rem;vertical-align:top}
.ok{color:#17643a}.bad{color:#a11}pre{white-space:pre-wrap;margin:0}.issues{background:#fff7e0;padding:.5rem}"""


def render(result: SubmissionResult) -> str:
    """The feedback page of one submission."""
    esc = html.escape
    rows = []
    for q in result.questions:
        cls = "ok" if q.score >= q.points else "bad"
        messages = "".join(f"<pre>{esc(m)}</pre>" for m in q.messages)
        rows.append(f"<tr><td>{esc(q.grade_id)}</td><td class='{cls}'>{q.score:g} / {q.points:g}</td>"
                    f"<td>{messages}</td></tr>")  # fmt: skip
    issues = "".join(f"<li>{esc(i)}</li>" for i in result.issues)
    issues_html = f"<div class='issues'><b>About your submission</b><ul>{issues}</ul></div>" if issues else ""
    title = f"{esc(result.week)}: feedback for {esc(result.student)}"
    head = f"<head><meta charset='utf-8'><title>{title}</title><style>{STYLE}</style></head>"
    stamp = esc(result.timestamp or "unknown")
    extra = f" + {result.bonus:g} bonus" if any(q.bonus for q in result.questions) else ""
    summary = f"<p>Score: <b>{result.score:g} / {result.max_score:g}</b>{extra}. Submitted: {stamp}.</p>"
    table = f"<table><tr><th>Question</th><th>Points</th><th>Messages</th></tr>{''.join(rows)}</table>"
    return f"<!doctype html><html>{head}<body><h1>{title}</h1>{summary}{issues_html}{table}</body></html>\n"


def write_feedback(course: Course, week: str, students: list[str] | None = None) -> list[Path]:
    """Write ``feedback/<student>/<week>/assignment.html`` for every graded submission."""
    course.require_week(week)
    written = []
    for student in discover(course, week, students)[0]:
        result = stored_result(course, student, week)
        if result is None:
            continue
        folder = course.feedback(student, week)
        write_atomic(folder / f"{NOTEBOOK_ID}.html", render(result))
        stamp = course.submitted(student, week) / "timestamp.txt"
        if stamp.is_file():
            shutil.copy2(stamp, folder / "timestamp.txt")
        written.append(folder / f"{NOTEBOOK_ID}.html")
    return written
