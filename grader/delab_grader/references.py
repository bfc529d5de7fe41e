"""Reference answers: the solution notebook executed on the current dataset, stored as plain data.

``course/references/<week>/`` holds the solution's exports plus ``fingerprint.json`` (sha256 of the
source notebook, of the dataset's manifest.json and the export format). They are rebuilt whenever
either changes, so a new dataset seed regrades correctly with no manual step.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from delab_grader import sandbox
from delab_grader.course import Course, GraderError
from delab_grader.execute import (
    DEFAULT_TIMEOUTS,
    Timeouts,
    execute_notebook,
    kernel_env,
    stage_files,
    start_kernel,
)
from delab_grader.exports import FORMAT, Export, read_export
from delab_grader.notebook import Source, load_source, require_tamper_proof
from delab_grader.spec import Spec

FINGERPRINT = "fingerprint.json"


@dataclass
class References:
    """The reference answers of one week and how each question is compared."""

    week: str
    folder: Path
    fingerprint: dict[str, Any]

    def spec(self, qid: str) -> Spec:
        return Spec.from_json(self.fingerprint["specs"][qid])

    def export(self, qid: str) -> Export:
        found = read_export(self.folder / "exports", qid)
        if found is None:
            raise GraderError(f"reference answer {qid!r} is missing; run `delab references {self.week}`")
        return found

    @property
    def test_ids(self) -> set[str]:
        """grade_ids of the source's test cells."""
        return set(self.fingerprint.get("tests", []))

    @property
    def key(self) -> str:
        """Identifies these references (part of a submission's grading key)."""
        return hashlib.sha256(json.dumps(self.fingerprint, sort_keys=True).encode()).hexdigest()


def dataset_fingerprint(data: Path) -> str:
    """sha256 of the dataset's manifest.json ("none" when there is no dataset)."""
    manifest = data / "manifest.json"
    return hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file() else "none"


def wanted_fingerprint(course: Course, source: Source) -> dict[str, Any]:
    """What the references of ``source`` must have been built from."""
    return {"source": source.sha256, "dataset": dataset_fingerprint(course.data), "format": FORMAT}


def load_references(course: Course, week: str, source: Source) -> References | None:
    """The stored references of ``week`` if they are current, else None."""
    folder = course.references(week)
    try:
        stored = json.loads((folder / FINGERPRINT).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    wanted = wanted_fingerprint(course, source)
    if any(stored.get(k) != v for k, v in wanted.items()):
        return None
    return References(week, folder, stored)


def _failures(result: Any, source: Source) -> list[str]:
    by_index = {c.index: c.grade_id for c in source.cells.values()}
    problems = [f"cell {i} ({by_index.get(i, 'ungraded')}) raised {err}" for i, err in result.errors.items()]
    if result.status != "ok":
        problems.append(result.reason)
    missing = [q for q in source.qids if not (result.exports / q).is_dir()]
    if missing:
        problems.append(f"no answer recorded for {missing}")
    return problems


async def build_references(course: Course, week: str, timeouts: Timeouts = DEFAULT_TIMEOUTS) -> References:
    """Execute the solution notebook and store its answers; GraderError if the solution fails."""
    source = load_source(course.source(week))
    require_tamper_proof(source, course.source(week))
    sandbox.use_notebook_limits(source.nb.metadata)
    folder = course.references(week)
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".build-{week}-", dir=folder.parent))
    try:
        kernel = await start_kernel(scratch, kernel_env(course))
        stage_files(course.source(week).parent, kernel.work, set())
        result = await execute_notebook(source.nb, scratch, timeouts, kernel)
        problems = _failures(result, source)
        if problems:
            raise GraderError(f"the solution notebook of {week} does not run cleanly: " + "; ".join(problems))
        fingerprint = {
            **wanted_fingerprint(course, source),
            "specs": _specs(result.exports, source),
            "tests": [t.grade_id for t in source.tests],
        }
        (scratch / FINGERPRINT).write_text(json.dumps(fingerprint, indent=1, sort_keys=True))
        shutil.rmtree(kernel.work, ignore_errors=True)
        _replace(folder, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return References(week, folder, fingerprint)


def _specs(exports: Path, source: Source) -> dict[str, Any]:
    specs = {}
    for qid in source.qids:
        export = read_export(exports, qid)
        specs[qid] = Spec.from_json(export.spec).to_json()  # validated: authoring errors surface here
    return specs


def _replace(folder: Path, new: Path) -> None:
    """Swap ``new`` into place of ``folder`` (the old one is removed only after the swap)."""
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    new.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def _locked(course: Course, week: str) -> Iterator[None]:
    lock = course.references(week).with_suffix(".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


async def ensure_references(course: Course, week: str, timeouts: Timeouts = DEFAULT_TIMEOUTS) -> References:
    """Current references of ``week``, rebuilt first if the source or the dataset changed."""
    course.require_week(week)
    with _locked(course, week):
        refs = load_references(course, week, load_source(course.source(week)))
        return refs or await build_references(course, week, timeouts)


def references_sync(course: Course, week: str, force: bool = False) -> References:
    """Blocking entry point (``delab references``)."""
    if force:
        (course.references(week) / FINGERPRINT).unlink(missing_ok=True)
    return asyncio.run(ensure_references(course, week))
