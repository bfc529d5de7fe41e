"""Notebooks on the grading side: the source's graded cells, reading submissions, restoring cells.

A submission is rebuilt against the source: graded cells are matched by ``grade_id``, test and
locked cells are restored from the source, deleted cells are put back, duplicates and unknown ids are
reported. Every problem becomes a message for the student, never an exception.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from delab_grader.course import NOTEBOOK, GraderError
from delab_grader.spec import check_qid

ANSWER_CALL = re.compile(r"""\banswer\(\s*(?:qid\s*=\s*)?["']([^"']+)["']""")
HIDDEN_TESTS = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)


def visible_text(source: str) -> str:
    """A cell's text as released: hidden tests removed, surrounding whitespace ignored."""
    return HIDDEN_TESTS.sub("", source).strip()


@dataclass(frozen=True)
class GradedCell:
    """A source cell with nbgrader metadata."""

    grade_id: str
    index: int
    cell_type: str
    points: float
    grade: bool
    solution: bool
    locked: bool
    qids: tuple[str, ...] = ()

    @property
    def is_test(self) -> bool:
        return self.grade and not self.solution and self.cell_type == "code"

    @property
    def restored(self) -> bool:
        """Test and read-only cells always come from the source."""
        return not self.solution


@dataclass
class Source:
    """The parsed source notebook of one week."""

    nb: NotebookNode
    sha256: str
    cells: dict[str, GradedCell] = field(default_factory=dict)

    @property
    def tests(self) -> list[GradedCell]:
        return [c for c in self.cells.values() if c.is_test]

    @property
    def qids(self) -> list[str]:
        return [q for c in self.tests for q in c.qids]


#: Notebook metadata key (``{"delab": {"kernel_decided_tests": true}}``) that accepts assert-only tests.
KERNEL_DECIDED = "kernel_decided_tests"


def kernel_decided(source: Source) -> list[str]:
    """Grade ids of the test cells without ``answer()``: their verdict comes from the student's kernel."""
    return [t.grade_id for t in source.tests if not t.qids]


def accepts_kernel_decided(source: Source) -> bool:
    """Whether the author opted in to assert-only tests (notebook metadata ``delab.kernel_decided_tests``)."""
    delab = source.nb.metadata.get("delab", {})
    return isinstance(delab, dict) and delab.get(KERNEL_DECIDED) is True


def require_tamper_proof(source: Source, path: Path) -> None:
    """Refuse a source whose tests would be decided in the student's kernel, unless the author opted in.

    An assert-only test passes when its cell runs without error, and the student's code controls that
    kernel (an IPython input transformer can drop the asserts). ``answer()`` exports the value instead,
    and the grader compares it outside the kernel."""
    plain = kernel_decided(source)
    if plain and not accepts_kernel_decided(source):
        raise GraderError(
            f"{path}: test cell(s) {', '.join(plain)} record no answer(): an assert-only test is decided "
            "inside the student's kernel, which the student's code can subvert (e.g. an input transformer "
            "that drops the asserts). Record the value the asserts check with answer('<id>', value) "
            "(grader/delab_grader/README.md), or accept the risk with the notebook metadata "
            f'{{"delab": {{"{KERNEL_DECIDED}": true}}}} (such questions are then flagged for manual review).'
        )


def nbgrader_meta(cell: dict[str, Any]) -> dict[str, Any]:
    """The cell's nbgrader metadata ({} when absent or malformed)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def load_source(path: Path) -> Source:
    """Parse a source notebook; authoring mistakes (duplicate ids, bad answer ids) raise GraderError."""
    raw = Path(path).read_bytes()
    nb = nbformat.reads(raw.decode(), as_version=4)
    source = Source(nb, hashlib.sha256(raw).hexdigest())
    seen_qids: set[str] = set()
    for index, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if not gid:
            continue
        if gid in source.cells:
            raise GraderError(f"{path}: grade_id {gid!r} is used twice; every graded cell needs its own")
        qids = tuple(ANSWER_CALL.findall(cell.source)) if cell.cell_type == "code" else ()
        for q in qids:
            check_qid(q)
            if q in seen_qids:
                raise GraderError(f"{path}: answer id {q!r} is recorded in two cells")
            seen_qids.add(q)
        source.cells[gid] = GradedCell(
            gid, index, cell.cell_type, float(meta.get("points", 0) or 0), bool(meta.get("grade")),
            bool(meta.get("solution")), bool(meta.get("locked")), qids,
        )  # fmt: skip
    return source


def find_notebook(folder: Path) -> tuple[Path | None, list[str]]:
    """The submitted notebook in ``folder`` (accepting one renamed notebook) and messages."""
    if not folder.is_dir():
        return None, [f"the submission folder {folder.name} does not exist"]
    if (folder / NOTEBOOK).is_file():
        return folder / NOTEBOOK, []
    found = sorted(p for p in folder.glob("*.ipynb") if p.is_file())
    if not found:
        return None, [f"no notebook in the submission (expected {NOTEBOOK}); nothing could be graded"]
    chosen = max(found, key=lambda p: p.stat().st_mtime)
    note = f"the notebook was renamed to {chosen.name}; it was graded as {NOTEBOOK}"
    if len(found) > 1:
        note += f" (the newest of {[p.name for p in found]})"
    return chosen, [note]


def read_notebook(path: Path) -> tuple[NotebookNode | None, list[str]]:
    """Read a submitted notebook of any nbformat version; problems become messages, not exceptions."""
    try:
        text = path.read_bytes().decode("utf-8")
        version = json.loads(text).get("nbformat")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        return None, [f"{path.name} is not a valid notebook (invalid JSON: {exc}); nothing could be graded"]
    notes = (
        [f"{path.name} is in the old nbformat {version}; it was converted to nbformat 4"]
        if version != 4
        else []
    )
    try:
        nb = nbformat.reads(text, as_version=4)
        if version == 4:
            nbformat.validate(nb)
    except Exception as exc:
        if version != 4:
            return None, [f"{path.name} could not be read as a notebook ({type(exc).__name__}: {exc})"]
        nb = repair(json.loads(text))
        notes.append(
            f"{path.name} was damaged ({type(exc).__name__}); its cells were recovered as far as possible"
        )
    if not isinstance(nb.get("cells"), list):
        return None, [f"{path.name} has no cells"]
    return nb, notes


CELL_MAKERS = {
    "code": nbformat.v4.new_code_cell,
    "markdown": nbformat.v4.new_markdown_cell,
    "raw": nbformat.v4.new_raw_cell,
}


def repair(data: dict[str, Any]) -> NotebookNode:
    """A valid notebook from damaged nbformat-4 JSON: every recognisable cell, missing keys filled in."""
    cells = []
    for raw in data.get("cells") if isinstance(data.get("cells"), list) else []:
        if not isinstance(raw, dict):
            continue
        text = raw.get("source", "")
        text = "".join(map(str, text)) if isinstance(text, list) else str(text)
        meta = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
        cells.append(CELL_MAKERS.get(raw.get("cell_type"), nbformat.v4.new_code_cell)(text, metadata=meta))
    return nbformat.v4.new_notebook(cells=cells)


def _fresh(cell: NotebookNode) -> NotebookNode:
    cell = copy.deepcopy(cell)
    cell["id"] = uuid.uuid4().hex[:8]
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def _blank(cell: NotebookNode) -> NotebookNode:
    """A solution cell as released: the student's answer is missing."""
    cell = _fresh(cell)
    cell.source = "# (this answer cell was deleted from the submission)\nraise NotImplementedError()"
    return cell


def reconcile(submitted: NotebookNode, source: Source) -> tuple[NotebookNode, list[str]]:
    """The notebook to execute: the student's cells, graded cells matched by grade_id to the source."""
    notes: list[str] = []
    placed: set[str] = set()
    cells = [c for c in (_place(cell, source, placed, notes) for cell in submitted.cells) if c is not None]
    _restore_missing(cells, placed, source, notes)
    nb = copy.deepcopy(source.nb)
    nb.cells = cells
    return nb, notes


def _place(cell: NotebookNode, source: Source, placed: set[str], notes: list[str]) -> NotebookNode | None:
    """The cell to run for one submitted cell (None to drop it)."""
    gid = nbgrader_meta(cell).get("grade_id")
    if not gid or not isinstance(gid, str):
        return _fresh(cell)
    graded = source.cells.get(gid)
    if graded is None:
        notes.append(f"cell with unknown grade_id {gid!r} (edited?) was kept as ordinary code")
        return _plain(cell)
    if gid in placed:
        notes.append(f"grade_id {gid!r} appears more than once; only the first copy was graded")
        return None if graded.restored else _plain(cell)
    placed.add(gid)
    if not graded.restored:
        return _fresh(_as_type(cell, graded, notes))
    original = source.nb.cells[graded.index]
    if cell.get("cell_type") != original.cell_type or visible_text(cell.get("source", "")) != visible_text(
        original.source
    ):
        notes.append(f"cell {gid!r} was changed; it was restored from the assignment")
    return _fresh(original)


def _plain(cell: NotebookNode) -> NotebookNode:
    cell = _fresh(cell)
    cell.metadata.pop("nbgrader", None)
    return cell


def _as_type(cell: NotebookNode, graded: GradedCell, notes: list[str]) -> NotebookNode:
    if cell.get("cell_type") == graded.cell_type:
        return cell
    kind = cell.get("cell_type")
    notes.append(
        f"answer cell {graded.grade_id!r} was changed to {kind}; it was graded as {graded.cell_type}"
    )
    new = (
        nbformat.v4.new_code_cell(cell.source)
        if graded.cell_type == "code"
        else nbformat.v4.new_markdown_cell(cell.source)
    )
    new.metadata = cell.get("metadata", {})
    return new


def _restore_missing(
    cells: list[NotebookNode], placed: dict[str, int], source: Source, notes: list[str]
) -> None:
    """Put back graded cells the student deleted, after the previous graded cell that is present."""
    anchor = -1
    for graded in sorted(source.cells.values(), key=lambda c: c.index):
        if graded.grade_id in placed:
            anchor = _position(cells, graded.grade_id)
            continue
        original = source.nb.cells[graded.index]
        restored = _fresh(original) if graded.restored else _blank(original)
        if graded.solution:
            notes.append(f"answer cell {graded.grade_id!r} was deleted; it was restored empty")
        elif graded.is_test:
            notes.append(f"test cell {graded.grade_id!r} was deleted; it was restored")
        anchor += 1
        cells.insert(anchor, restored)
        placed.add(graded.grade_id)


def _position(cells: list[NotebookNode], gid: str) -> int:
    return next(i for i, c in enumerate(cells) if nbgrader_meta(c).get("grade_id") == gid)
