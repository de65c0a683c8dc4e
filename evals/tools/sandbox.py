"""Run untrusted Python in a separate, limited process.

Layers (see README "Tool-assisted mode"):
  1. a fresh process in its own session with rlimits (set by the child script before the code runs): CPU seconds, address space, processes,
     file size (which also caps captured output), no core files; killed as a whole process group
     on a wall-clock deadline;
  2. where user namespaces work (`unshare`), new user/mount/net/pid namespaces: no network
     interfaces but loopback, every mount read-only except the temporary working directory, a
     private /proc, all capabilities dropped, and the whole namespace dies with its first process;
  3. inside the interpreter, an audit hook that refuses sockets, process creation, signals,
     ctypes/cffi imports, reading /proc/*/environ and writes outside the working directory.
The environment is replaced by a minimal one (no API keys); the working directory is a new empty
temporary folder removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evals.tools.base import ToolResult

CHILD = str(Path(__file__).with_name("sandbox_child.py"))
Isolation = Literal["auto", "namespaces", "process"]


@dataclass(frozen=True)
class SandboxLimits:
    wall_s: float = 10.0  # wall-clock deadline for the whole process group
    cpu_s: int = 5  # CPU seconds (RLIMIT_CPU)
    memory_mb: int = 512  # address space (RLIMIT_AS)
    nproc: int = 16  # extra processes the user may start (RLIMIT_NPROC; not enforced for root)
    fsize_mb: int = 4  # largest file the code may write, and the cap on captured stdout/stderr
    output_chars: int = 4000  # how much of stdout/stderr the model sees


def _own_process_count() -> int:
    uid = os.getuid()
    n = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                n += entry.stat().st_uid == uid
            except OSError:
                continue
    return n


def _minimal_env(workdir: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}


def _command(workdir: str, namespaces: bool, audit_hook: bool, limits: SandboxLimits, nproc: int) -> list[str]:
    py = [sys.executable, "-I", "-S", "-B", CHILD]
    mb = 1024 * 1024
    flags = [f"--limits={limits.cpu_s},{limits.memory_mb * mb},{limits.fsize_mb * mb},{nproc}"]
    if not audit_hook:
        flags.append("--no-audit-hook")
    if not namespaces:
        return [*py, "run", workdir, *flags]
    unshare = shutil.which("unshare") or "unshare"
    return [unshare, "--user", "--map-root-user", "--mount", "--net", "--pid", "--fork", "--kill-child",
            "--mount-proc", *py, "setup", workdir, *flags]


def _rmtree(path: str) -> None:
    def fix(func, p, _exc):  # the code may have removed permissions from its own files
        try:
            os.chmod(p, stat.S_IRWXU)
            os.chmod(os.path.dirname(p), stat.S_IRWXU)
            func(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=fix)


def _read_capped(path: Path, chars: int) -> tuple[str, int]:
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(chars * 4)
    text = head.decode("utf-8", errors="replace")
    if len(text) > chars or size > len(head):
        text = text[:chars] + f"\n[... output truncated: {size} bytes in total]"
    return text, size


_SIGNALS = {signal.SIGXCPU: "CPU time limit exceeded", signal.SIGKILL: "killed (SIGKILL)",
            signal.SIGSEGV: "crashed (segmentation fault)", signal.SIGABRT: "crashed (abort)",
            signal.SIGBUS: "crashed (bus error)", signal.SIGXFSZ: "file size limit exceeded"}


def run_python(code: str, limits: SandboxLimits = SandboxLimits(), isolation: Isolation = "auto",
               audit_hook: bool = True) -> ToolResult:
    """Run `code` in the sandbox. Any failure of the code (exception, limit, crash, timeout) is a
    ToolResult with `error` set; the harness itself only raises on its own bugs. `audit_hook=False`
    exists for tests of the OS-level layer alone."""
    t0 = time.perf_counter()
    namespaces = isolation == "namespaces" or (isolation == "auto" and namespaces_available())
    base = tempfile.mkdtemp(prefix="probity-py-")
    workdir = os.path.join(base, "work")
    os.mkdir(workdir, 0o700)
    out_path, err_path = Path(base, "stdout"), Path(base, "stderr")
    nproc = limits.nproc + (0 if os.getuid() == 0 else _own_process_count())
    timed_out = False
    try:
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = subprocess.Popen(
                _command(workdir, namespaces, audit_hook, limits, nproc), stdin=subprocess.PIPE, stdout=out,
                stderr=err, cwd=workdir, env=_minimal_env(workdir), start_new_session=True, close_fds=True,
                umask=0o077,
            )
            try:
                proc.communicate(code.encode("utf-8", errors="replace"), timeout=limits.wall_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)  # whatever the code left behind
                except ProcessLookupError:
                    pass
                proc.wait()
        stdout, out_size = _read_capped(out_path, limits.output_chars)
        stderr, err_size = _read_capped(err_path, limits.output_chars)
    finally:
        _rmtree(base)
    rc = proc.returncode
    cap = limits.fsize_mb * 1024 * 1024
    error: str | None = None
    if timed_out:
        error = f"timed out after {limits.wall_s:g} s (wall clock)"
    elif max(out_size, err_size) >= cap:
        error = f"output limit exceeded ({limits.fsize_mb} MB)"
    elif rc < 0 or (namespaces and 128 < rc < 128 + 65):  # the namespace reports 128 + signal
        sig = -rc if rc < 0 else rc - 128
        error = _SIGNALS.get(sig, f"killed by signal {sig}")
        if sig == signal.SIGXCPU:
            error += f" ({limits.cpu_s} s)"
    elif rc == 70 and stderr.startswith("sandbox setup failed"):
        raise RuntimeError(stderr.strip())  # our bug or a broken host, not the model's code
    elif rc != 0:
        error = f"exit status {rc}"
    if error and stderr.strip() and not timed_out:
        error += "\n" + stderr.strip()
    elif stderr.strip() and not error:
        stdout = f"{stdout}\n[stderr]\n{stderr.strip()}" if stdout.strip() else stderr.strip()
    return ToolResult(output=stdout, error=error, duration_s=time.perf_counter() - t0)


_NS_OK: bool | None = None


def namespaces_available() -> bool:
    """Whether unshare + setpriv can build the namespace sandbox here (probed once per process)."""
    global _NS_OK
    if _NS_OK is None:
        _NS_OK = False
        if sys.platform.startswith("linux") and shutil.which("unshare") and (
                shutil.which("setpriv") or os.path.exists("/usr/bin/setpriv")):
            try:
                r = run_python("print(6 * 7)", SandboxLimits(wall_s=10), isolation="namespaces")
                _NS_OK = r.ok and r.output.strip() == "42"
            except (OSError, RuntimeError):
                _NS_OK = False
    return _NS_OK


def isolation_description() -> str:
    return ("namespaces (user/mount/net/pid) + rlimits + audit hook" if namespaces_available()
            else "process + rlimits + audit hook (no user namespaces: network/file limits are Python-level)")
