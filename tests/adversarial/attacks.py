"""Hostile submissions of the fixture week, each with the exact points it must get.

Every attack starts from the correct solution (17 points), makes the attacked answer wrong and then
tries to get the points anyway. ``lost`` lists the points the grader must NOT give (question -> score
it gets instead); every other question keeps its full points. Paths in the code are placeholders
(``@SOURCE@``, ...) filled in with the test course's real absolute paths by :func:`fill`.
"""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from delab_grader.course import Course
from nbformat import NotebookNode
from submissions import cell, with_answers

CANARY = "CANARY-d1f5e0c4"  # written into every secret file; must never reach a graded notebook
FULL = {"q1": 4, "q2": 2, "q3": 1, "q4": 1, "q5": 2, "q6": 1, "q7": 2, "q8": 2, "q9": 1, "q10": 1}
WRONG_TOTAL = "total = -1.0\n"


@dataclass(frozen=True)
class Attack:
    """One hostile submission: what it tries, the code or edit it uses, and what it must get."""

    student: str
    title: str  # the README table's "attack" column
    outcome: str  # the README table's "outcome" column
    cells: dict[str, str] = field(default_factory=dict)  # answer cells replaced (grade_id -> code)
    lost: dict[str, float] = field(default_factory=dict)  # question -> points it gets (others: full)
    message: str = ""  # a regular expression found in the messages or the graded notebook's errors
    edit: Callable[[NotebookNode], None] | None = None  # structural change to the notebook
    files: dict[str, str] = field(default_factory=dict)  # extra files: name -> symlink target token

    @property
    def points(self) -> dict[str, float]:
        return FULL | self.lost


def _edit_test(nb: NotebookNode) -> None:
    cell(nb, "q3").source = "answer('q3_total', 1234.5)  # the test now records a made-up answer"


def _delete_test(nb: NotebookNode) -> None:
    nb.cells.remove(cell(nb, "q3"))


def _duplicate_test(nb: NotebookNode) -> None:
    fake = copy.deepcopy(cell(nb, "q3"))
    fake.source, fake.id = "pass", "fake-q3"
    nb.cells.insert(nb.cells.index(cell(nb, "q3_code")), fake)


def _retype_test(nb: NotebookNode) -> None:
    i = nb.cells.index(cell(nb, "q3"))
    nb.cells[i] = nbformat.v4.new_markdown_cell(nb.cells[i].source, metadata=nb.cells[i].metadata)


def _metadata(nb: NotebookNode) -> None:
    cell(nb, "q3").metadata.nbgrader["points"] = 100
    test = cell(nb, "q4")
    test.metadata.nbgrader["grade_id"], test.source = "q4_mine", "pass"


def _code(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


FORGE = _code("""
    import os
    from delab_grader.exports import write_export
    from delab_grader.spec import make_spec
    def forge():
        box = os.environ['DELAB_GRADER_EXPORTS']
        write_export(box, 'q3_total', float(orders['amount'].sum()), make_spec())
""")
LATER = _code("""
    import threading, time
    def later():
        box = os.environ['DELAB_GRADER_EXPORTS'] + '/q3_total'
        while not os.path.exists(box):  # wait for the test cell's own answer ...
            time.sleep(0.01)
        while os.path.exists(box):  # ... and for the grader to take it
            time.sleep(0.01)
        forge()
    threading.Thread(target=later, daemon=True).start()
""")
READ_ABSOLUTE = _code("""
    import json, sqlite3
    loot = []
    for p in ['@SOURCE@', '@STATE@/canary.txt', '@OTHER@/canary.txt', '@SOLUTIONS@/canary.txt']:
        try:
            loot.append(open(p).read())
        except OSError as e:
            print(type(e).__name__)
    print(loot)
    try:
        sqlite3.connect('@GRADEBOOK@').execute('update grade set manual_score = 100')
    except Exception as e:
        print(type(e).__name__)
    total = json.load(open('@REFS@/exports/q3_total/meta.json'))['value']
""")
READ_RELATIVE = _code("""
    import glob, json
    patterns = ['../../../source/*/*.ipynb', '../../../*/solutions/*/*.ipynb',
                '../../../../*/solutions/*/*.ipynb', '../../**/assignment.ipynb']
    hits = [p for pattern in patterns for p in glob.glob(pattern, recursive=True)]
    print(hits)
    nb = json.load(open(hits[0]))
    exec(''.join(nb['cells'][8]['source']))
""")
LOOPBACK = _code("""
    import http.server, json, threading, urllib.request
    body = json.dumps(sorted(drivers['city'].unique().tolist())).encode()
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)
    server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cities = json.load(urllib.request.urlopen(f'http://127.0.0.1:{server.server_port}/'))
""")
WRITE_OUTSIDE = _code("""
    import delab_grader
    for target in [DATA / 'drivers.parquet', Path(delab_grader.__file__), Path('@SOURCE@')]:
        try:
            target.write_text('pwned')
        except OSError as e:
            print(type(e).__name__)
    drivers.head(1).to_parquet(DATA / 'drivers.parquet')
    cities = ['x']
""")
SYMLINKED_EXPORT = _code("""
    import os, shutil
    import delab_grader.student as s
    def fake(root, qid, value, spec):
        shutil.rmtree(os.path.join(root, qid), ignore_errors=True)
        os.symlink('@REFS@/exports/' + qid, os.path.join(root, qid))
        return {}
    s.write_export = fake
    s._visible_checks = lambda *a: []
""")
MALFORMED_EXPORT = _code("""
    import os
    import delab_grader.student as s
    def bad(root, qid, value, spec):
        os.makedirs(os.path.join(root, qid), exist_ok=True)
        meta = '{not json' if qid == 'q3_total' else '{"kind": "table", "qid": "%s"}' % qid
        open(os.path.join(root, qid, 'meta.json'), 'w').write(meta)
        open(os.path.join(root, qid, 'table.parquet'), 'w').write('garbage')
        return {}
    s.write_export = bad
    s._visible_checks = lambda *a: []
    by_driver = None
""")
KILL_ALL = _code("""
    import os, signal
    for pid in (-1, 1):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    os.kill(os.getpid(), signal.SIGKILL)
""")
FORK_BOMB = _code("""
    import os
    while True:
        try:
            os.fork()
        except OSError:
            pass
""")
LATER_QS = ("q5", "q6", "q7", "q8", "q9", "q10")
ANSWERED_FROM_Q3 = ("q3", "q4", "q5", "q6", "q7", "q8", "q9")  # every answer() question from q3 on

# fmt: off
ATTACKS = [
    Attack(
        "patch-pandas-testing", "replace `pandas.testing.assert_frame_equal` (and `assert_series_equal`)",
        "0 for the question: answers are compared outside the kernel",
        {"q1_code": _code("""
            import pandas.testing as pt
            pt.assert_frame_equal = pt.assert_series_equal = lambda *a, **k: None
            by_driver = pd.DataFrame({'driver_id': [99], 'n_orders': [0], 'revenue': [0.0]})
        """)},
        {"q1": 0},
    ),
    Attack(
        "patch-course-checks", "replace the course's own comparison and check functions in the kernel",
        "0: the kernel's copy of the grader is never consulted",
        {"q3_code": _code("""
            import delab_grader.compare as c, delab_grader.checks as k, delab_grader.student as s
            c.grade_answer = lambda *a, **kw: type('R', (), {'fraction': 1.0, 'messages': []})()
            k.run_checks = s.run_checks = lambda *a, **kw: []
        """) + "\n" + WRONG_TOTAL},
        {"q3": 0},
    ),
    Attack(
        "fake-answer-function", "replace `answer()` by a function that only prints `[ok]`",
        "0 for every answer \"recorded\" that way: nothing was exported",
        {"q3_code": "def answer(qid, value, **kw):\n    print('[ok]', qid)\n" + WRONG_TOTAL},
        dict.fromkeys(ANSWERED_FROM_Q3, 0), "no answer was recorded",
    ),
    Attack(
        "always-equal", "an answer object whose `__eq__` is always true",
        "0: only plain data leaves the kernel",
        {"q3_code": _code("""
            class Always(float):
                def __eq__(self, other):
                    return True
                __hash__ = float.__hash__
            total = Always(-1)
        """)},
        {"q3": 0},
    ),
    Attack(
        "input-transformer", "an IPython input transformer that blanks every later test cell",
        "0 for each blanked question (no answer recorded)",
        {"q3_code": _code("""
            get_ipython().input_transformers_post.append(
                lambda lines: ['pass\\n'] if any('answer(' in l for l in lines) else lines)
        """) + "\n" + WRONG_TOTAL},
        {"q3": 0, "q4": 0, "q5": 0, "q6": 0, "q7": 0, "q8": 0, "q9": 0}, "no answer was recorded",
    ),
    Attack(
        "hide-failures", "`set_custom_exc` and a patched `showtraceback` hide failing checks",
        "0: hidden errors do not change the comparison",
        {"q4_code": _code("""
            ip = get_ipython()
            ip.set_custom_exc((Exception,), lambda *a, **k: None)
            ip.showtraceback = lambda *a, **k: None
            cities = ['nowhere']
        """), "q5_code": "stats = {'mean': 0.0, 'max': 0.0}"},
        {"q4": 0, "q5": 0},
    ),
    Attack(
        "plain-test-transformer", "an input transformer that drops the `assert`s of an nbgrader-style test",
        "refused by default: `delab references`/`release` reject assert-only tests. This fixture opts in "
        "(`kernel_decided_tests`), so the point is given and flagged for manual review in the gradebook",
        {"q10_code": _code("""
            get_ipython().input_transformers_post.append(
                lambda lines: [l for l in lines if 'assert' not in l])
            n_drivers = 'wrong'
        """)},
        {}, "an instructor reviews this question",
    ),
    Attack("edit-test-cell", "edit a locked test cell", "restored from the source: 0 for the wrong answer",
           {"q3_code": WRONG_TOTAL}, {"q3": 0}, "cell 'q3' was changed; it was restored", _edit_test),
    Attack("delete-test-cell", "delete a test cell", "restored from the source: 0 for the wrong answer",
           {"q3_code": WRONG_TOTAL}, {"q3": 0}, "test cell 'q3' was deleted; it was restored", _delete_test),
    Attack("duplicate-test-cell", "duplicate a test cell (a blank copy first)",
           "only one copy, restored from the source: 0", {"q3_code": WRONG_TOTAL}, {"q3": 0},
           "grade_id 'q3' appears more than once", _duplicate_test),
    Attack("retype-test-cell", "turn a test cell into markdown", "restored as code: 0 for the wrong answer",
           {"q3_code": WRONG_TOTAL}, {"q3": 0}, "cell 'q3' was changed; it was restored", _retype_test),
    Attack(
        "edit-metadata", "raise a test's points to 100; rename another test's grade_id and blank it",
        "points come from the source; the renamed test is restored: 0 for the wrong answers",
        {"q3_code": WRONG_TOTAL, "q4_code": "cities = []"}, {"q3": 0, "q4": 0},
        "unknown grade_id 'q4_mine'", _metadata,
    ),
    Attack(
        "read-secrets-absolute",
        "read the solution, references, gradebook, course state, another student's files by absolute path",
        "0: none of them exists inside the sandbox; nothing leaks",
        {"q3_code": READ_ABSOLUTE}, {"q3": 0}, "FileNotFoundError",
    ),
    Attack(
        "read-secrets-relative",
        "find the solution notebook by relative path (`../../../source/...`) and exec it",
        "0: the paths do not exist inside the sandbox",
        {"q3_code": READ_RELATIVE}, {"q3": 0}, "IndexError",
    ),
    Attack(
        "symlink-in-submission", "symbolic links in the submission to the references and the solution",
        "0: links are not staged, or point nowhere inside the sandbox",
        {"q3_code": "import json\ntotal = json.load(open('extra/ref.json'))['value']"}, {"q3": 0},
        "FileNotFoundError",
        files={"extra/ref.json": "@REFS@/exports/q3_total/meta.json", "sol.ipynb": "@SOURCE@"},
    ),
    Attack(
        "network", "fetch the answer from a public address; serve a correct answer on loopback",
        "0 for the network answer (no route out); loopback works, so the loopback answer counts",
        {"q3_code": "import urllib.request\n"
         "total = float(urllib.request.urlopen('http://1.1.1.1/', timeout=5).read())", "q4_code": LOOPBACK},
        {"q3": 0}, "URLError",
    ),
    Attack("infinite-loop", "an infinite loop", "interrupted at the cell timeout: 0 for that question only",
           {"q9_code": "while True:\n    pass"}, {"q9": 0}, "ran longer than"),
    Attack(
        "uninterruptible-loop", "a busy loop that ignores interrupts",
        "stopped a few seconds after the cell timeout: 0 for it and later questions",
        {"q9_code": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"},
        {"q9": 0, "q10": 0}, "kept running",
    ),
    Attack("memory-bomb", "allocate 4 GB", "killed at the memory limit: later questions 0, message says so",
           {"q9_code": "hog = b'x' * (4 * 1024**3)"}, {"q9": 0, "q10": 0}, "ran out of memory"),
    Attack("fork-bomb", "a fork bomb", "held at the process limit, interrupted at the cell timeout: 0",
           {"q10_code": FORK_BOMB}, {"q10": 0}, "ran longer than|kept running"),
    Attack("huge-output", "print 1 GB as fast as possible",
           "stopped at the output limit, or killed at the memory limit while the kernel queues it: later "
           "questions 0", {"q9_code": "for _ in range(1024):\n    print('x' * 2**20)"}, {"q9": 0, "q10": 0},
           "of output and was stopped|ran out of memory"),
    Attack("output-flood", "print 4 MB in small lines (over the 2 MB test limit)",
           "stopped at the output limit: later questions 0",
           {"q9_code": "for _ in range(4000):\n    print('y' * 1000)"}, {"q9": 0, "q10": 0},
           "of output and was stopped"),
    Attack("big-file", "write a 100 MB file (over the 64 MB test limit)",
           "the write fails at the file-size limit: 0 for that question",
           {"q9_code": "open('big.bin', 'wb').write(b'x' * 100 * 2**20)"}, {"q9": 0}, "File too large"),
    Attack("os-exit", "`os._exit(0)` in the middle", "earlier questions graded, later ones 0",
           {"q5_code": "import os\nos._exit(0)"}, dict.fromkeys(LATER_QS, 0), "the kernel died"),
    Attack(
        "kill-everything", "kill every process in sight (`kill -9 -1`, pid 1), then the kernel itself",
        "only the sandbox's own processes are reachable: later questions 0, the batch goes on",
        {"q9_code": KILL_ALL}, {"q9": 0, "q10": 0}, "the kernel died",
    ),
    Attack("write-outside-scratch", "overwrite the dataset, the course code and the solution",
           "0: everything but the working folder is read-only", {"q4_code": WRITE_OUTSIDE}, {"q4": 0},
           "OSError"),
    Attack(
        "forge-from-thread", "a background thread writes a correct answer file after its test cell ended",
        "0: answers are taken right after their test cell; later files are discarded",
        {"q3_code": FORGE + "\n" + LATER + "\n" + WRONG_TOTAL}, {"q3": 0},
    ),
    Attack("forge-at-exit", "an `atexit` hook writes a correct answer file when the kernel stops",
           "0: the kernel is killed, and files written later are discarded anyway",
           {"q3_code": FORGE + "\nimport atexit\natexit.register(forge)\n" + WRONG_TOTAL}, {"q3": 0}),
    Attack("symlinked-export", "the answer file is a symbolic link to the reference answer",
           "0 for every answer exported that way: links are never followed out of the sandbox",
           {"q3_code": SYMLINKED_EXPORT + "\n" + WRONG_TOTAL}, dict.fromkeys(ANSWERED_FROM_Q3, 0)),
    Attack("malformed-export", "answer files that are not JSON / not Parquet",
           "0 with a message for every such answer: exports are validated before comparison",
           {"q1_code": MALFORMED_EXPORT}, dict.fromkeys(("q1", "q2", *ANSWERED_FROM_Q3), 0),
           "is not valid JSON.*could not be read|could not be read.*is not valid JSON"),
    Attack(
        "huge-export", "a 3 MB answer file (bypassing `answer()`'s own size check)",
        "0: the grader refuses it by size",
        {"q3_code": "import delab_grader.exports as e\ne.MAX_JSON_BYTES = 10**9\n"
         "total = list(range(400_000))"},
        {"q3": 0}, "larger than",
    ),
]
# fmt: on


def fill(code: str, paths: dict[str, Path]) -> str:
    """``code`` with ``@NAME@`` placeholders replaced by absolute paths."""
    for name, path in paths.items():
        code = code.replace(f"@{name}@", str(path))
    return code


def secret_paths(course: Course, week: str) -> dict[str, Path]:
    """The places a submission must never see."""
    return {
        "SOURCE": course.source(week), "SOLUTIONS": course.solutions, "STATE": course.state,
        "REFS": course.references(week), "GRADEBOOK": course.state / "gradebook.db",
        "OTHER": course.submitted("victim", week),
    }  # fmt: skip


def build(attack: Attack, solution: NotebookNode, paths: dict[str, Path]) -> NotebookNode:
    """The notebook of ``attack``."""
    nb = with_answers(solution, {gid: fill(code, paths) for gid, code in attack.cells.items()})
    if attack.edit is not None:
        attack.edit(nb)
    return nb
