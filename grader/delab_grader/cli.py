"""The grader's ``delab`` subcommands: references, check, submit, release, grade, feedback, report.

``delab.cli`` calls :func:`add_commands`; ``python -m delab_grader.cli ...`` works on its own too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path

from delab_grader.course import Course, GraderError
from delab_grader.execute import Timeouts

UNSAFE_HELP = "run notebooks without the sandbox (when it cannot be created; only for code you trust)"


def _weeks(course: Course, weeks: list[str]) -> list[str]:
    return [course.require_week(w) for w in weeks] if weeks else course.week_names()


def _sandbox(args: argparse.Namespace) -> None:
    """Refuse (GraderError) if the sandbox cannot be created, unless ``--unsafe`` switches it off."""
    from delab_grader import sandbox

    if getattr(args, "unsafe", False):
        sandbox.configure(mode="off")
        print("WARNING: --unsafe: student code runs WITHOUT the sandbox", file=sys.stderr)
    else:
        sandbox.sandboxed()


def cmd_references(args: argparse.Namespace) -> int:
    from delab_grader.references import references_sync

    _sandbox(args)
    course = Course.default()
    for week in _weeks(course, args.weeks):
        refs = references_sync(course, week, force=args.force)
        print(f"{week}: {len(refs.fingerprint['specs'])} reference answers in {refs.folder}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from delab_grader.checking import check_notebook

    ok, lines = check_notebook(Path(args.notebook), Timeouts(cell=args.cell_timeout))
    print("\n".join(lines))
    return 0 if ok else 1


def cmd_submit(args: argparse.Namespace) -> int:
    from delab_grader.submit import submit

    dest = submit(Course.default(), args.week, args.notebook, args.student)
    print(f"submitted to {dest} (earlier submissions are kept in history/)")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from delab_grader.release import release

    course = Course.default()
    for week in _weeks(course, args.weeks):
        print(f"released {release(course, week)}")
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    from delab_grader.batch import BatchOptions, grade_week

    if not args.student and not args.all:
        raise GraderError("say whom to grade: --student ID (repeatable) or --all")
    timeouts = Timeouts(cell=args.cell_timeout, notebook=args.timeout)
    _sandbox(args)
    options = BatchOptions(workers=args.workers, timeouts=timeouts, students=args.student or None)
    summary = asyncio.run(grade_week(Course.default(), args.week, options))
    print("\n".join(summary.lines()))
    return 1 if summary.failed else 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from delab_grader.feedback import write_feedback

    pages = write_feedback(Course.default(), args.week, args.student or None)
    print(f"wrote {len(pages)} feedback page(s) under {Course.default().feedback()}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from delab_grader.report import write_report

    csv, page = write_report(Course.default(), Path(args.out) if args.out else None)
    print(f"wrote {csv} and {page}")
    return 0


def _guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except GraderError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

    return run


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add the grader's subcommands to ``delab``'s argparse subparsers."""
    p = subparsers.add_parser("references", help="compute reference answers from the solution notebooks")
    p.add_argument("weeks", nargs="*", help="weeks (default: all)")
    p.add_argument("--force", action="store_true", help="recompute even if sources and dataset are unchanged")
    p.add_argument("--unsafe", action="store_true", help=UNSAFE_HELP)
    p.set_defaults(func=_guarded(cmd_references))

    p = subparsers.add_parser("check", help="run a notebook headless and report its visible checks")
    p.add_argument("notebook", help="e.g. weeks/week02-.../assignment.ipynb")
    p.add_argument("--cell-timeout", type=float, default=300.0)
    p.set_defaults(func=_guarded(cmd_check))

    p = subparsers.add_parser("submit", help="submit a week's notebook (earlier submissions are kept)")
    p.add_argument("week")
    p.add_argument("--student", help="student id (default: $DELAB_STUDENT or your login)")
    p.add_argument(
        "--notebook", type=Path, help="notebook to submit (default: weeks/<week>/assignment.ipynb)"
    )
    p.set_defaults(func=_guarded(cmd_submit))

    p = subparsers.add_parser("release", help="generate weeks/<week>/assignment.ipynb from solutions/<week>")
    p.add_argument("weeks", nargs="*", help="weeks (default: all)")
    p.set_defaults(func=_guarded(cmd_release))

    p = subparsers.add_parser("grade", help="grade new or changed submissions of a week")
    p.add_argument("week")
    p.add_argument("--student", action="append", help="grade this student (repeatable)")
    p.add_argument("--all", action="store_true", help="grade every submission")
    p.add_argument("--workers", type=int, default=max(1, os.cpu_count() or 1), help="notebooks run at once")
    p.add_argument("--cell-timeout", type=float, default=120.0, help="seconds per cell")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per notebook")
    p.add_argument("--unsafe", action="store_true", help=UNSAFE_HELP)
    p.set_defaults(func=_guarded(cmd_grade))

    p = subparsers.add_parser("feedback", help="write HTML feedback per student for a week")
    p.add_argument("week")
    p.add_argument("--student", action="append")
    p.set_defaults(func=_guarded(cmd_feedback))

    p = subparsers.add_parser("report", help="grades CSV and plotly HTML report")
    p.add_argument("--out", help="folder (default: course/reports)")
    p.set_defaults(func=_guarded(cmd_report))


def main(argv: list[str] | None = None) -> int:
    """``python -m delab_grader.cli <command> ...``"""
    parser = argparse.ArgumentParser(prog="delab", description="Course autograder")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
