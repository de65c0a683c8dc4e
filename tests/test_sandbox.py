"""Escape attempts against the python sandbox: each is contained, reported as a tool error, and the
next call still works. Limits are kept small so the file runs in a few seconds."""

from __future__ import annotations

import os
import shutil

import pytest

from evals.tools.python import PythonTool
from evals.tools.sandbox import INSTALL_HINT, SandboxLimits, bwrap_available, namespaces_available, run_python

LIMITS = SandboxLimits(wall_s=3, cpu_s=1, memory_mb=256, nproc=8, fsize_mb=1, output_chars=500)
ISOLATIONS = ["bwrap", "process", pytest.param("namespaces", marks=pytest.mark.skipif(
    not namespaces_available(), reason="user namespaces (unshare/setpriv) are not available here"))]
needs_ns = pytest.mark.skipif(not namespaces_available(), reason="user namespaces are not available here")


def need_bwrap() -> None:
    """bwrap is the sandbox the python tool is meant to have: its absence fails, never skips."""
    if not shutil.which("bwrap"):
        pytest.fail(f"bubblewrap (bwrap) is not installed: {INSTALL_HINT} (`make test` does this)")
    if not bwrap_available():
        pytest.fail("bubblewrap is installed but cannot build the sandbox here (user namespaces disabled?)")


@pytest.fixture(params=ISOLATIONS)
def run(request):
    isolation = request.param
    if isolation == "bwrap":
        need_bwrap()

    def _run(code: str, limits: SandboxLimits = LIMITS):
        result = run_python(code, limits, isolation)
        after = run_python("print(6 * 7)", LIMITS, isolation)  # the sandbox still works afterwards
        assert after.ok and after.output.strip() == "42", after
        return result

    return _run


def test_ordinary_code_runs(run):
    r = run("word = 'strawberry'\nprint(word.count('r'))\nlen(word)")
    assert r.ok and r.output.split() == ["3", "10"]


def test_network_socket_is_refused(run):
    r = run("import socket\ns = socket.socket()\ns.connect(('1.1.1.1', 53))\nprint('connected')")
    assert r.error and "connected" not in r.output


def test_environment_is_stripped(run, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-probity-SECRET")
    r = run("import os\nprint(sorted(os.environ))\nprint(os.environ['OPENAI_API_KEY'])")
    assert r.error and "KeyError" in r.error
    assert "SECRET" not in r.output + r.error and "PATH" in r.output


def test_other_processes_environment_is_not_readable(run, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-probity-SECRET")
    code = ("import os\nfound = ''\nfor pid in os.listdir('/proc'):\n    if pid.isdigit():\n"
            "        found += open(f'/proc/{pid}/environ', errors='replace').read()\n"
            "print('SECRET' in found)")
    r = run(code)
    assert r.error and "SECRET" not in r.output + r.error


def test_write_outside_workdir_is_refused(run, tmp_path):
    target = tmp_path / "escaped.txt"
    r = run(f"open({str(target)!r}, 'w').write('x')")
    assert r.error and not target.exists()
    r = run(f"import os\nos.mkdir({str(tmp_path / 'escaped_dir')!r})")
    assert r.error and not (tmp_path / "escaped_dir").exists()


def test_workdir_is_empty_private_and_removed(run):
    r = run("import os\nprint(os.listdir('.'))\nopen('scratch.txt', 'w').write('ok')\nprint(os.getcwd())")
    assert r.ok, r
    listing, cwd = r.output.split("\n")[:2]
    assert listing == "[]"
    # weak levels: a host folder, removed afterwards; bwrap: a tmpfs inside the sandbox, gone with it
    assert not os.path.exists(os.path.join(cwd, "scratch.txt"))


def test_fork_bomb_is_contained(run):
    r = run("import os\nwhile True:\n    os.fork()")
    assert r.error
    r = run("import subprocess\nsubprocess.run(['sh', '-c', ':(){ :|:& };:'])")
    assert r.error


def test_huge_allocation_is_refused(run):
    r = run("x = bytearray(10 * 1024 ** 3)\nprint('allocated')")
    assert r.error and "MemoryError" in r.error and "allocated" not in r.output


def test_infinite_loop_hits_the_cpu_limit(run):
    r = run("while True:\n    pass")
    assert r.error and "CPU time" in r.error


@pytest.mark.parametrize("isolation", ["bwrap", "process"])
def test_sleeping_forever_hits_the_wall_clock(isolation):
    if isolation == "bwrap":
        need_bwrap()
    r = run_python("import time\ntime.sleep(60)", SandboxLimits(wall_s=1, cpu_s=1), isolation)
    assert r.error and "wall clock" in r.error and r.duration_s < 10


def test_huge_output_is_capped(run):
    r = run("print('x' * 100_000_000)")
    assert r.error and "output limit" in r.error
    assert len(r.output) < LIMITS.output_chars + 100


def test_long_output_is_truncated_without_error(run):
    r = run("print('y' * 5000)")
    assert r.ok and "truncated" in r.output and len(r.output) < LIMITS.output_chars + 100


def test_ctypes_crash_is_contained(run):
    r = run("import ctypes\nctypes.string_at(0)")
    assert r.error
    r = run("import faulthandler\nfaulthandler._sigsegv()")  # a real segfault, no ctypes needed
    assert r.error and "crashed" in r.error


# -- the OS layer alone (no audit hook): what holds even if Python-level checks were bypassed --

OS_LEVELS = ["bwrap", pytest.param("namespaces", marks=needs_ns)]


@pytest.fixture(params=OS_LEVELS)
def os_level(request) -> str:
    if request.param == "bwrap":
        need_bwrap()
    return request.param


def test_os_layer_has_no_network(os_level):
    r = run_python("import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=2)", LIMITS,
                   os_level, audit_hook=False)
    assert r.error and ("unreachable" in r.error or "Errno" in r.error)


def test_os_layer_filesystem_is_read_only(tmp_path, os_level):
    target = tmp_path / "escaped.txt"
    r = run_python(f"open({str(target)!r}, 'w').write('x')", LIMITS, os_level, audit_hook=False)
    # namespaces: the host tree, read-only; bwrap: the host's folders are not there at all
    assert r.error and ("Read-only" in r.error or "No such file" in r.error) and not target.exists()


def test_os_layer_hides_other_processes(monkeypatch, os_level):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-probity-SECRET")
    code = ("import os\nfound = ''\nfor pid in os.listdir('/proc'):\n    if pid.isdigit():\n"
            "        try:\n            found += open(f'/proc/{pid}/environ', errors='replace').read()\n"
            "        except OSError:\n            pass\nprint('SECRET' in found, os.getpid() < 100)")
    r = run_python(code, LIMITS, os_level, audit_hook=False)
    assert r.ok and r.output.split() == ["False", "True"]


def test_os_layer_crash_is_reported(os_level):
    r = run_python("import ctypes\nctypes.string_at(0)", LIMITS, os_level, audit_hook=False)
    assert r.error and "crashed" in r.error


_FORKS = ("import os\nn = 0\ntry:\n    while n < 200:\n        if os.fork() == 0:\n            os._exit(0)\n"
          "        n += 1\nexcept OSError:\n    print('limited', n)")


@pytest.mark.skipif(os.getuid() == 0, reason="RLIMIT_NPROC does not bind root at the process level")
def test_os_layer_limits_processes():
    r = run_python(_FORKS, SandboxLimits(wall_s=3, cpu_s=1, nproc=8), "process", audit_hook=False)
    assert "limited" in r.output or r.error


def test_bwrap_limits_processes_even_for_root():
    need_bwrap()
    code = _FORKS.replace("os._exit(0)", "__import__('time').sleep(5); os._exit(0)")
    r = run_python(code, SandboxLimits(wall_s=5, cpu_s=1, nproc=8), "bwrap", audit_hook=False)
    assert "limited" in r.output and int(r.output.split()[1]) < 8, r


def test_python_tool_checks_arguments():
    tool = PythonTool(LIMITS)
    assert tool.run({}).error and tool.run({"code": 1}).error and tool.run({"code": " "}).error
    assert tool.run({"code": "print(1)", "x": 2}).error
    assert tool.run({"code": "print(2 + 2)"}).output.strip() == "4"


def test_rlimits_are_applied(run):
    r = run("import resource as r\nprint([r.getrlimit(getattr(r, n))[0] for n in "
            "('RLIMIT_CPU', 'RLIMIT_AS', 'RLIMIT_FSIZE', 'RLIMIT_CORE')])")
    assert r.ok and r.output.strip() == f"[1, {256 * 1024 * 1024}, {1024 * 1024}, 0]"
