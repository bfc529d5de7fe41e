"""Submissions for the grader's tests, derived from the fixture's source and released notebooks."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
from delab_grader.course import NOTEBOOK, Course
from delab_grader.notebook import nbgrader_meta
from nbformat import NotebookNode

PARTIAL = {
    "q1_code": "by_driver = orders.groupby('driver_id').agg(n_orders=('order_id', 'size'),\n"
    "                                          revenue=('amount', 'max')).reset_index()",
    "q2_code": "top3 = duckdb.sql('select * from (select order_id, amount from orders "
    "order by amount desc, order_id limit 3) order by amount')",
    "q4_code": "cities = sorted(drivers['city'].unique().tolist(), reverse=True)",
    "q5_code": "stats = {'mean': float(orders['amount'].mean()), 'max': float(orders['amount'].max()) + 1}",
    "q6_code": "arrow_orders = pa.Table.from_pandas(orders[orders.driver_id == 1]"
    ".rename(columns={'amount': 'Amount'}), preserve_index=False)",
    "q7_code": "Path('out').mkdir(exist_ok=True)\norders.groupby('day', as_index=False)['amount'].sum()"
    ".rename(columns={'day': 'date', 'amount': 'total'}).to_csv('out/daily.csv', index=False)",
    "q8_code": "con = duckdb.connect('out/course.duckdb')\n"
    "con.execute('create or replace table drivers as select * from drivers')",
    "q9_code": "raise NotImplementedError()",
}
PARTIAL_POINTS = {"q1": 2, "q2": 0, "q3": 1, "q4": 1, "q5": 1, "q6": 1, "q7": 2, "q8": 1, "q9": 0, "q10": 1}


def load(course: Course, week: str, released: bool = False) -> NotebookNode:
    return nbformat.read(course.release(week) if released else course.source(week), as_version=4)


def cell(nb: NotebookNode, gid: str) -> NotebookNode:
    return next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == gid)


def with_answers(nb: NotebookNode, answers: dict[str, str]) -> NotebookNode:
    nb = copy.deepcopy(nb)
    for gid, text in answers.items():
        cell(nb, gid).source = text
    return nb


def without(nb: NotebookNode, *gids: str) -> NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") not in gids]
    return nb


def place(
    course: Course,
    student: str,
    week: str,
    content: NotebookNode | str | bytes | None,
    name: str = NOTEBOOK,
    timestamp: str | None = "2024-01-01 10:00:00.000000 UTC",
) -> Path:
    """Write a submission folder for ``student``."""
    folder = course.submitted(student, week)
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(content, NotebookNode):
        content = nbformat.writes(content)
    if isinstance(content, str):
        content = content.encode()
    if content is not None:
        (folder / name).write_bytes(content)
    if timestamp is not None:
        (folder / "timestamp.txt").write_text(timestamp)
    return folder


def nbformat3(nb: NotebookNode) -> str:
    return json.dumps(nbformat.convert(copy.deepcopy(nb), 3))
