"""``delab report``: grades CSV (nbgrader's own export) and a self-contained plotly HTML report.

The report shows the score distribution per week, the pass rate per question (hardest first) and
late submissions, all read from the gradebook (so manual grades given in formgrader count).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from delab_grader.course import Course
from delab_grader.gradebook import open_gradebook
from delab_grader.release import write_atomic


def grade_rows(course: Course) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per graded question, one row per submission) from the gradebook."""
    questions, submissions = [], []
    with open_gradebook(course.db_url) as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                submissions.append({
                    "week": assignment.name, "student": sub.student.id, "score": sub.score,
                    "max_score": sub.max_score, "timestamp": sub.timestamp,
                    "seconds_late": sub.total_seconds_late,
                })  # fmt: skip
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        questions.append({
                            "week": assignment.name, "question": grade.name, "student": sub.student.id,
                            "score": grade.score, "max_score": grade.max_score,
                        })  # fmt: skip
    return pd.DataFrame(questions), pd.DataFrame(submissions)


def export_csv(course: Course, path: Path) -> Path:
    """nbgrader's CSV export of the gradebook (the same file ``nbgrader export`` writes)."""
    from nbgrader.plugins import CsvExportPlugin

    path.parent.mkdir(parents=True, exist_ok=True)
    with open_gradebook(course.db_url) as gb:
        CsvExportPlugin(to=str(path)).export(gb)
    return path


def _figures(questions: pd.DataFrame, submissions: pd.DataFrame) -> list:
    import plotly.express as px

    subs = submissions.assign(
        percent=100 * submissions.score / submissions.max_score.where(submissions.max_score > 0)
    )
    dist = px.box(subs, x="week", y="percent", points="all", title="Score distribution per week (%)")
    q = questions.assign(passed=questions.score >= questions.max_score)
    rate = (q.groupby(["week", "question"], as_index=False)["passed"].mean()
              .assign(label=lambda d: d.week + " / " + d.question).sort_values("passed"))  # fmt: skip
    hard = px.bar(
        rate, x="passed", y="label", orientation="h", title="Pass rate per question (hardest first)"
    )
    hard.update_layout(yaxis={"categoryorder": "array", "categoryarray": list(rate.label)[::-1]})
    late = subs[subs.seconds_late > 0].assign(hours_late=lambda d: d.seconds_late / 3600)
    late_fig = px.bar(
        late, x="student", y="hours_late", color="week", title=f"Late submissions ({len(late)})"
    )
    return [dist, hard, late_fig]


def write_report(course: Course, out: Path | None = None) -> tuple[Path, Path]:
    """Write ``grades.csv`` and ``report.html`` into ``out`` (default ``course/reports``)."""
    out = Path(out) if out else course.state / "reports"
    csv = export_csv(course, out / "grades.csv")
    questions, submissions = grade_rows(course)
    if submissions.empty:
        body = "<p>No graded submissions yet.</p>"
    else:
        figs = _figures(questions, submissions)
        body = "".join(f.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figs))
    head = "<head><meta charset='utf-8'><title>Course report</title></head>"
    page = f"<!doctype html><html>{head}<body><h1>Course report</h1>{body}</body></html>"
    write_atomic(out / "report.html", page)
    return csv, out / "report.html"
