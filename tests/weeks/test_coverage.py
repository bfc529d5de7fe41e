"""Every week's coverage table points at things that exist: lecture headings and assignment questions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WEEKS = sorted(p for p in (REPO / "weeks").glob("week*") if p.is_dir())
ROW = re.compile(r"^\|\s*(?P<item>[^|]+?)\s*\|\s*(?P<covered>[^|]+?)\s*\|\s*$")


def coverage_rows(readme: Path) -> list[tuple[str, str]]:
    """(plan item, covered by) pairs of the table under the `## Coverage` heading."""
    text = readme.read_text()
    section = text.split("## Coverage", 1)[1] if "## Coverage" in text else ""
    section = section.split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        match = ROW.match(line.strip())
        if match and not set(match["covered"]) <= set("-: ") and match["item"] != "plan item":
            rows.append((match["item"], match["covered"]))
    return rows


def lecture_headings(notebook: Path) -> set[str]:
    cells = json.loads(notebook.read_text())["cells"]
    return {
        line.lstrip("#").strip()
        for cell in cells if cell["cell_type"] == "markdown"
        for line in "".join(cell["source"]).splitlines() if line.startswith("#")
    }


def question_ids(notebook: Path) -> set[str]:
    cells = json.loads(notebook.read_text())["cells"]
    ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in cells}
    for cell in cells:
        ids |= set(re.findall(r"answer\(\s*['\"]([\w.-]+)['\"]", "".join(cell["source"])))
    return {i for i in ids if i}


@pytest.mark.parametrize("week", WEEKS, ids=[w.name for w in WEEKS])
def test_coverage_table_points_at_existing_sections_and_questions(week: Path) -> None:
    readme = week / "README.md"
    assert readme.exists(), f"{week.name} has no README.md with a coverage table"
    rows = coverage_rows(readme)
    assert len(rows) >= 5, f"{readme}: the `## Coverage` table lists only {len(rows)} plan items"
    headings = lecture_headings(week / "lecture.ipynb")
    solution = REPO / "solutions" / week.name / "assignment.ipynb"
    questions = question_ids(solution) if solution.exists() else set()
    missing = []
    for item, covered in rows:
        for entry in (e.strip() for e in covered.split(";")):
            kind, _, target = entry.partition(":")
            target = target.strip().strip("`")
            if kind.strip() == "lecture" and target not in headings:
                missing.append(f"{item!r}: no lecture heading {target!r}")
            elif kind.strip() == "assignment" and target not in questions:
                missing.append(f"{item!r}: no question {target!r} in {solution.relative_to(REPO)}")
            elif kind.strip() not in ("lecture", "assignment"):
                missing.append(f"{item!r}: {entry!r} is neither 'lecture: …' nor 'assignment: …'")
    assert not missing, "\n".join(missing)


def test_every_week_folder_has_a_lecture_and_a_released_assignment() -> None:
    for week in WEEKS:
        assert (week / "lecture.ipynb").exists(), week.name
        if (REPO / "solutions" / week.name).exists():
            assert (week / "assignment.ipynb").exists(), f"{week.name}: run `delab release {week.name}`"
