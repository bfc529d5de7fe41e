"""The sandbox's mechanisms one by one, without a kernel: namespaces, limits, the outbox."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from delab_grader import limits, sandbox
from delab_grader.exports import MAX_JSON_BYTES, ExportError, read_export
from delab_grader.limits import Cgroup, Limits, launcher_cmd
from delab_grader.outbox import collect

needs_sandbox = pytest.mark.skipif(sandbox.probe() is not None, reason="no bubblewrap sandbox here")


FORK_BOMB = """
import os, signal, sys
for i in range(100):
    try:
        pid = os.fork()
    except OSError:
        print('refused at', i)
        sys.exit(0)
    if pid == 0:
        os.close(1), os.close(2), signal.pause()
"""


def run(code: str, limits: Limits | None = None, box: Path | None = None, env: dict | None = None):
    """``python -c code`` started like a kernel: in a cgroup with rlimits (and in bwrap with ``box``)."""
    limits = limits or Limits()
    cmd = [sys.executable, "-c", code]
    if box is not None:
        km = sandbox.SandboxedKernelManager(limits, [box], sandbox.code_folders(), box)
        cmd = km.wrap(cmd, {"env": env or {}})
    cgroup = Cgroup(limits)
    try:
        done = subprocess.run(launcher_cmd(limits, cgroup, cmd), capture_output=True, text=True, timeout=120)
        return done, cgroup.hit()
    finally:
        cgroup.close()


def test_cpu_time_limit_kills_a_busy_loop():
    done, _ = run("while True: pass", Limits(cpu_seconds=1))
    assert done.returncode in (-signal.SIGXCPU, -signal.SIGKILL)  # soft = hard limit: the kernel's choice


def test_file_size_limit_refuses_big_files(tmp_path):
    done, _ = run(f"open({str(tmp_path / 'big')!r}, 'wb').write(b'x' * 3 * 2**20)", Limits(file_mb=1))
    assert "File too large" in done.stderr


def test_memory_limit_kills_the_process_tree():
    done, hit = run("import os\nos.fork()\nhog = b'x' * (600 * 2**20)", Limits(memory_mb=256))
    assert done.returncode == -signal.SIGKILL
    assert hit == ["memory"] or not Cgroup(Limits()).folders  # the reason is known where cgroups exist


def test_without_cgroups_memory_falls_back_to_an_address_space_limit(monkeypatch):
    monkeypatch.setattr(limits, "_own_cgroup", lambda controller: None)
    done, _ = run("hog = b'x' * (600 * 2**20)", Limits(memory_mb=256))
    assert "MemoryError" in done.stderr


def test_process_limit_stops_a_fork_bomb():
    done, hit = run(FORK_BOMB, Limits(processes=20))
    assert "refused at" in done.stdout and "processes" in hit


@needs_sandbox
def test_inside_the_sandbox(tmp_path):
    secret = tmp_path / "course" / "gradebook.db"
    secret.parent.mkdir()
    secret.write_text("secret")
    box = tmp_path / "box"
    box.mkdir()
    code = f"""
import json, os, socket
out = {{'secret': os.path.exists({str(secret)!r}), 'root': sorted(os.listdir('/root')),
       'home': os.path.exists('/home'), 'uid': os.getuid(),
       'env': sorted(os.environ), 'cwd': os.getcwd(), 'pid': os.getpid()}}
try:
    socket.create_connection(('1.1.1.1', 80), timeout=5)
except OSError as exc:
    out['net'] = exc.errno
s = socket.socket(); s.bind(('127.0.0.1', 0)); out['loopback'] = True
for path in ['/usr/x', {str(Path(sandbox.__file__))!r}, '/x']:
    try:
        open(path, 'a')
    except OSError as exc:
        out.setdefault('readonly', []).append(exc.errno)
open('written', 'w').write('ok')
print(json.dumps(out))
"""
    done, _ = run(code, box=box, env={"DELAB_COURSE_DIR": str(secret.parent), "API_TOKEN": "t0k3n"})
    out = json.loads(done.stdout)
    assert out["secret"] is False and out["home"] is False and out["root"] in ([], [".pyenv"])
    assert "API_TOKEN" not in out["env"] and "DELAB_COURSE_DIR" not in out["env"]
    assert out["net"] == 101 and out["loopback"]  # ENETUNREACH: no route out, loopback only
    assert out["readonly"] == [30, 30, 30]  # EROFS everywhere but the scratch folder
    assert out["cwd"] == str(box) and (box / "written").read_text() == "ok"
    assert out["pid"] < 10 and out["uid"] == 65534  # its own PID namespace, as nobody


def _export(root: Path, qid: str, meta: str) -> None:
    (root / qid).mkdir(parents=True)
    (root / qid / "meta.json").write_text(meta)


def test_outbox_gives_only_the_test_cells_answers_and_never_follows_links(tmp_path):
    outbox, exports, secret = tmp_path / "outbox", tmp_path / "exports", tmp_path / "secret"
    good = json.dumps({"format": 1, "qid": "q_a", "kind": "value", "value": 1})
    _export(outbox, "q_a", good)
    _export(outbox, "q_b", good.replace("q_a", "q_b"))  # another question's answer: discarded
    _export(secret, "q_c", good.replace("q_a", "q_c"))
    (outbox / "q_c").symlink_to(secret / "q_c")  # a link out of the sandbox
    _export(outbox, "q_d", "x" * (MAX_JSON_BYTES + 100))
    collect(outbox, exports, ["q_a", "q_c", "q_d"])
    assert read_export(exports, "q_a").value == 1
    assert read_export(exports, "q_b") is None and read_export(exports, "q_c") is None
    with pytest.raises(ExportError, match="larger than"):
        read_export(exports, "q_d")
    assert list(outbox.iterdir()) == []


def test_limits_per_week_come_from_the_source_metadata():
    base = Limits(memory_mb=512)
    wanted = {"memory_mb": 8192, "bogus": 1, "processes": "many"}
    assert Limits.from_metadata({"delab": {"limits": wanted}}, base) == Limits(memory_mb=8192)
    assert Limits.from_metadata({}, base) == base
