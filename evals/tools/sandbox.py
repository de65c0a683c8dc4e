"""Run untrusted Python in a separate, limited process.

Three isolation levels, best first (`isolation_available()` says which this machine has; README
"Tool-assisted mode" has the table of what each blocks):

  bwrap       bubblewrap: own user, mount, PID, network, IPC, UTS (and cgroup) namespaces; a root
              file system that holds only the Python runtime (read-only), a fresh /proc, a minimal
              /dev and an empty tmpfs /work with a size quota; uid 65534 without capabilities; a
              seccomp filter against kernel attack surface (x86_64); no new user namespaces. The
              sandbox dies with the harness (--die-with-parent, PID namespace) and leaves nothing on
              disk. When the harness runs as root the user namespace maps the sandbox to the real
              uid 65534, so RLIMIT_NPROC binds.
  namespaces  `unshare` (no bubblewrap): user/mount/net/pid namespaces, every mount read-only except
              the temporary work folder, but the whole host file system stays readable. Weak.
  process     a plain child process. Weak: only rlimits and the audit hook stand in the way.

On every level: a minimal environment (no API keys), rlimits (CPU, address space, file size,
processes, no core files), a wall-clock deadline after which everything is killed, captured
output capped, and an audit hook inside the interpreter that refuses sockets, process creation,
native-code modules and writes outside the work folder. The hook is a guard against accidents
(PEP 578); the boundary is the operating system's. Outputs are scrubbed of secrets.
"""

from __future__ import annotations

import contextlib
import os
import platform
import selectors
import shutil
import signal
import stat
import struct
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evals.errors import UserError
from evals.secrets import is_credential_header, scrub
from evals.tools.base import ToolResult

CHILD = str(Path(__file__).with_name("sandbox_child.py"))
Isolation = Literal["auto", "bwrap", "namespaces", "process"]
Level = Literal["bwrap", "namespaces", "process"]
#: the levels that are a real boundary; the others need --allow-weak-sandbox
STRONG: frozenset[str] = frozenset({"bwrap"})
INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap)"
SANDBOX_UID = 65534  # nobody
WORK = "/work"  # the work folder inside the bwrap sandbox
CHILD_IN_SANDBOX = "/probity/sandbox_child.py"
TMP_PREFIX = "probity-py-"


class WeakSandbox(UserError):
    """Tools mode with the python tool on a machine that only offers a weak sandbox."""


@dataclass(frozen=True)
class SandboxLimits:
    wall_s: float = 10.0  # wall-clock deadline for everything the call started
    cpu_s: int = 5  # CPU seconds (RLIMIT_CPU)
    memory_mb: int = 512  # address space (RLIMIT_AS)
    nproc: int = 16  # processes and threads (RLIMIT_NPROC; binds root only under bwrap)
    fsize_mb: int = 4  # largest file the code may write, and the cap on captured stdout/stderr
    output_chars: int = 4000  # how much of stdout/stderr the model sees
    disk_mb: int = 16  # size of the tmpfs work folder (bwrap)


# -- secrets -------------------------------------------------------------------------------------

def environment_secrets() -> list[str]:
    """Values of the harness's environment variables whose names look like credentials."""
    return [v for k, v in os.environ.items() if is_credential_header(k) and v]


def _minimal_env(workdir: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}


# -- the bwrap command ---------------------------------------------------------------------------

def _interpreter() -> str:
    """The real interpreter binary (not a venv's symlink into the project checkout)."""
    return os.path.realpath(sys.executable)


def _runtime_binds() -> list[str]:
    """bwrap arguments that make the Python runtime (read-only) and the system libraries visible."""
    args: list[str] = []
    for link in ("/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
    paths: list[str] = []
    for d in ("/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libx32", "/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.isdir(d) and not os.path.islink(d):
            paths.append(d)
    if os.path.isfile("/etc/ld.so.cache"):
        paths.append("/etc/ld.so.cache")
    exe = _interpreter()
    # the base interpreter's stdlib and extension modules (a venv's own lib folder is in the checkout)
    extra = [exe, os.path.realpath(os.path.dirname(os.__file__))]
    shared = sysconfig.get_config_var("DESTSHARED")
    if shared and os.path.isdir(shared):
        extra.append(os.path.realpath(shared))
    libdir, soname = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("INSTSONAME")
    if libdir and soname and os.path.exists(os.path.join(libdir, soname)):
        extra.append(os.path.realpath(os.path.join(libdir, soname)))
    for p in extra:
        if not any(p == q or p.startswith(q.rstrip("/") + "/") for q in paths):
            paths.append(p)
    # parents are created world-readable (bwrap would copy a 0700 /root), then the binds, parents first
    parents = sorted({str(a) for p in paths for a in Path(p).parents if str(a) != "/"} - set(paths), key=len)
    for d in [*parents, os.path.dirname(CHILD_IN_SANDBOX)]:
        args += ["--perms", "0755", "--dir", d]
    for p in sorted(paths, key=len):
        args += ["--ro-bind", p, p]
    return args


# x86_64 system calls no model code needs: other processes' memory, kernel keyrings, eBPF, perf,
# userfaultfd, mounts and namespaces, modules, kexec, io_uring, handle-based opens. clone3 answers
# ENOSYS (glibc then falls back to clone, whose flags the limits bound).
_DENY_X86_64 = [101, 310, 311, 250, 248, 249, 321, 298, 323, 165, 166, 155, 272, 308, 246, 320, 175, 313,
                176, 167, 168, 169, 163, 425, 426, 427, 304, 303, 430, 431, 432, 429, 428, 442, 161, 179,
                103, 172, 173]
_ENOSYS_X86_64 = [435]


def seccomp_program() -> bytes | None:
    """A classic-BPF seccomp filter for bwrap --seccomp (None where no filter is defined: not x86_64)."""
    if platform.machine() != "x86_64":
        return None
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, errno, kill = 0x7FFF0000, 0x00050000, 0x80000000  # SECCOMP_RET_ALLOW / ERRNO / KILL_PROCESS
    deny = [(n, errno | 1) for n in _DENY_X86_64] + [(n, errno | 38) for n in _ENOSYS_X86_64]  # EPERM, ENOSYS
    prog: list[tuple[int, int, int, int]] = [
        (ld, 0, 0, 4), (jeq, 1, 0, 0xC000003E), (ret, 0, 0, kill),  # arch must be AUDIT_ARCH_X86_64
        (ld, 0, 0, 0), (jge, 0, 1, 0x40000000), (ret, 0, 0, errno | 1),  # no x32 ABI
    ]
    for nr, action in deny:
        prog += [(jeq, 0, 1, nr), (ret, 0, 0, action)]
    # clone (56) with a CLONE_NEW* flag: no new namespaces (a fresh user namespace is kernel attack surface)
    prog += [(jeq, 0, 3, 56), (ld, 0, 0, 16), (jset, 0, 1, 0x7E020000), (ret, 0, 0, errno | 1)]
    prog.append((ret, 0, 0, allow))
    return b"".join(struct.pack("=HBBI", *ins) for ins in prog)


def _data_fd(data: bytes) -> int:
    """A readable descriptor with `data` (for bwrap's --ro-bind-data / --seccomp)."""
    r, w = os.pipe()
    if len(data) > 60_000:  # above the pipe buffer: use an unlinked temporary file
        os.close(r)
        os.close(w)
        f = tempfile.TemporaryFile()
        f.write(data)
        f.flush()
        f.seek(0)
        fd = os.dup(f.fileno())
        f.close()
        return fd
    os.write(w, data)
    os.close(w)
    return r


def _root_userns() -> int:
    """(harness runs as root) A new user namespace mapping 0→0 for bwrap's setup and 65534→65534 for
    the code, as an fd for bwrap --userns. The code drops to 65534 before it runs: a real
    unprivileged uid, for which RLIMIT_NPROC binds."""
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    holder = subprocess.Popen([unshare, "--user", "--", "cat"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin"})
    try:
        mine = os.readlink("/proc/self/ns/user")
        deadline = time.monotonic() + 5
        while os.readlink(f"/proc/{holder.pid}/ns/user") == mine:
            if holder.poll() is not None or time.monotonic() > deadline:
                raise OSError("unshare --user did not start")
            time.sleep(0.001)
        mapping = f"0 0 1\n{SANDBOX_UID} {SANDBOX_UID} 1\n"
        for name in ("uid_map", "gid_map"):
            with open(f"/proc/{holder.pid}/{name}", "w") as f:
                f.write(mapping)
        return os.open(f"/proc/{holder.pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        with contextlib.suppress(OSError):
            holder.stdin.close()  # type: ignore[union-attr]
        holder.wait()


def _bwrap_command(limits: SandboxLimits, child_fd: int, seccomp_fd: int | None, userns_fd: int | None,
                   flags: list[str]) -> list[str]:
    bwrap = shutil.which("bwrap") or "bwrap"
    cmd = [bwrap]
    if userns_fd is not None:
        cmd += ["--userns", str(userns_fd), "--uid", "0", "--gid", "0",
                "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        cmd += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--disable-userns",
                "--cap-drop", "ALL"]
    cmd += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--hostname", "sandbox", "--die-with-parent", "--new-session", "--clearenv"]
    for k, v in _minimal_env(WORK).items():
        cmd += ["--setenv", k, v]
    cmd += _runtime_binds()
    cmd += ["--proc", "/proc", "--dev", "/dev",
            "--perms", "01777", "--size", str(limits.disk_mb * 1024 * 1024), "--tmpfs", WORK,
            "--ro-bind-data", str(child_fd), CHILD_IN_SANDBOX,
            "--remount-ro", "/dev", "--remount-ro", "/", "--chdir", WORK]
    if seccomp_fd is not None:
        cmd += ["--seccomp", str(seccomp_fd)]
    cmd += ["--", _interpreter(), "-I", "-S", "-B", CHILD_IN_SANDBOX, "run", WORK, "--drop-to-nobody", *flags]
    return cmd


# -- the other levels ----------------------------------------------------------------------------

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


def _weak_command(workdir: str, namespaces: bool, flags: list[str]) -> list[str]:
    py = [sys.executable, "-I", "-S", "-B", CHILD]
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


def _remove_stale_workdirs() -> None:
    """Work folders (weak levels) of harnesses that were killed before they could remove them:
    named probity-py-<pid>-*, removed once that pid is gone."""
    tmp = tempfile.gettempdir()
    with contextlib.suppress(OSError):
        for entry in os.scandir(tmp):
            if not entry.name.startswith(TMP_PREFIX):
                continue
            pid = entry.name[len(TMP_PREFIX):].partition("-")[0]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_uid == os.getuid():
                        _rmtree(entry.path)


_PRCTL = None


def _die_with_harness() -> None:
    """preexec_fn (weak levels): SIGKILL the sandbox's first process when the harness dies
    (PR_SET_PDEATHSIG; bwrap does this itself with --die-with-parent)."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL, 0, 0, 0)


def _prepare_prctl() -> None:
    global _PRCTL
    if _PRCTL is None and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            _PRCTL = ctypes.CDLL(None, use_errno=True).prctl


# -- running -------------------------------------------------------------------------------------

@dataclass
class _Captured:
    head: bytearray
    total: int = 0


def _communicate(proc: subprocess.Popen[bytes], data: bytes, wall_s: float, cap: int, keep: int
                 ) -> tuple[_Captured, _Captured, bool, bool]:
    """Feed stdin, read stdout/stderr (keeping `keep` bytes of each) until both close, the deadline
    passes (timed out) or either exceeds `cap` bytes (over). Never blocks past the deadline."""
    out, err = _Captured(bytearray()), _Captured(bytearray())
    deadline = time.monotonic() + wall_s
    sel = selectors.DefaultSelector()
    assert proc.stdin and proc.stdout and proc.stderr
    view = memoryview(data)
    if view:
        os.set_blocking(proc.stdin.fileno(), False)
        sel.register(proc.stdin, selectors.EVENT_WRITE)
    else:
        proc.stdin.close()
    sel.register(proc.stdout, selectors.EVENT_READ, out)
    sel.register(proc.stderr, selectors.EVENT_READ, err)
    timed_out = over = False
    try:
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for key, _ in sel.select(min(left, 0.5)):
                if key.fileobj is proc.stdin:
                    try:
                        n = os.write(proc.stdin.fileno(), view[:65536])
                    except (BrokenPipeError, BlockingIOError) as exc:
                        n = 0 if isinstance(exc, BlockingIOError) else len(view)
                    view = view[n:]
                    if not view:
                        sel.unregister(proc.stdin)
                        proc.stdin.close()
                    continue
                chunk = os.read(key.fileobj.fileno(), 65536)  # type: ignore[union-attr]
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                cap_ = key.data
                if len(cap_.head) < keep:
                    cap_.head += chunk[: keep - len(cap_.head)]
                cap_.total += len(chunk)
                if cap_.total > cap:
                    over = True
            if over:
                break
    finally:
        sel.close()
        for f in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                f.close()
    return out, err, timed_out, over


def _text(c: _Captured, chars: int) -> str:
    text = bytes(c.head).decode("utf-8", errors="replace")
    if len(text) > chars or c.total > len(c.head):
        text = text[:chars] + f"\n[... output truncated: {c.total} bytes in total]"
    return text


_SIGNALS = {signal.SIGXCPU: "CPU time limit exceeded", signal.SIGKILL: "killed (SIGKILL)",
            signal.SIGSEGV: "crashed (segmentation fault)", signal.SIGABRT: "crashed (abort)",
            signal.SIGBUS: "crashed (bus error)", signal.SIGXFSZ: "file size limit exceeded",
            signal.SIGSYS: "killed by the seccomp filter (SIGSYS)"}


def run_python(code: str, limits: SandboxLimits = SandboxLimits(), isolation: Isolation = "auto",
               audit_hook: bool = True, secrets: Sequence[str] = ()) -> ToolResult:
    """Run `code` in the sandbox. Any failure of the code (exception, limit, crash, timeout) is a
    ToolResult with `error` set; the harness itself only raises on its own bugs. Output and error
    are scrubbed of `secrets` and of the harness's credential-like environment values.
    `audit_hook=False` exists for tests of the OS-level layer alone."""
    t0 = time.perf_counter()
    level: Level = isolation_available() if isolation == "auto" else isolation
    mb = 1024 * 1024
    flags: list[str] = []
    if not audit_hook:
        flags.append("--no-audit-hook")
    fds: list[int] = []
    base: str | None = None
    started_r, started_w = os.pipe()  # the child writes one byte here just before the code runs
    os.set_blocking(started_r, False)
    flags.append(f"--started-fd={started_w}")
    fds.append(started_w)
    try:
        if level == "bwrap":
            root = os.getuid() == 0
            nproc = limits.nproc + (0 if root else 1)  # (non-root: bwrap's own init shares the count)
            flags.insert(0, f"--limits={limits.cpu_s},{limits.memory_mb * mb},{limits.fsize_mb * mb},{nproc}")
            child_fd = _data_fd(Path(CHILD).read_bytes())
            fds.append(child_fd)
            program = seccomp_program()
            seccomp_fd = _data_fd(program) if program else None
            if seccomp_fd is not None:
                fds.append(seccomp_fd)
            userns_fd = _root_userns() if root else None
            if userns_fd is not None:
                fds.append(userns_fd)
            cmd = _bwrap_command(limits, child_fd, seccomp_fd, userns_fd, flags)
            cwd, env = "/", {"PATH": "/usr/bin:/bin"}
        else:
            _remove_stale_workdirs()
            base = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-")
            cwd = os.path.join(base, "work")
            os.mkdir(cwd, 0o700)
            nproc = limits.nproc + (0 if os.getuid() == 0 else _own_process_count())
            flags.insert(0, f"--limits={limits.cpu_s},{limits.memory_mb * mb},{limits.fsize_mb * mb},{nproc}")
            cmd = _weak_command(cwd, level == "namespaces", flags)
            env = _minimal_env(cwd)
            _prepare_prctl()
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=cwd, env=env, start_new_session=True, close_fds=True, pass_fds=fds,
                                umask=0o077, preexec_fn=None if level == "bwrap" else _die_with_harness)
        for fd in fds:
            os.close(fd)
        fds = []
        cap = limits.fsize_mb * mb
        deadline = time.monotonic() + limits.wall_s
        try:
            out, err, timed_out, over = _communicate(proc, code.encode("utf-8", errors="replace"), limits.wall_s,
                                                     cap, limits.output_chars * 4)
            if not (timed_out or over):  # the outputs are closed: let the code finish (it may have closed them)
                try:
                    proc.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    timed_out = True
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # bwrap: the PID namespace dies with it
            proc.wait()
        try:
            started = os.read(started_r, 1) == b"1"
        except BlockingIOError:
            started = False
    finally:
        for fd in [*fds, started_r]:
            os.close(fd)
        if base is not None:
            _rmtree(base)
    stdout, stderr = _text(out, limits.output_chars), _text(err, limits.output_chars)
    rc = proc.returncode
    error: str | None = None
    pid_ns = level != "process"
    if timed_out:
        error = f"timed out after {limits.wall_s:g} s (wall clock)"
    elif over or max(out.total, err.total) >= cap:
        error = f"output limit exceeded ({limits.fsize_mb} MB)"
    elif rc < 0 or (pid_ns and 128 < rc < 128 + 65):  # a namespace's init reports 128 + signal
        sig = -rc if rc < 0 else rc - 128
        error = _SIGNALS.get(sig, f"killed by signal {sig}")
        if sig == signal.SIGXCPU:
            error += f" ({limits.cpu_s} s)"
    elif rc != 0 and not started:  # bwrap or the child failed before the code ran: our bug or a broken host
        raise RuntimeError(stderr.strip() if stderr.startswith("sandbox setup failed")
                           else f"sandbox setup failed (exit status {rc}): {stderr.strip()}")
    elif rc != 0:
        error = f"exit status {rc}"
    if error and stderr.strip() and not timed_out:
        error += "\n" + stderr.strip()
    elif stderr.strip() and not error:
        stdout = f"{stdout}\n[stderr]\n{stderr.strip()}" if stdout.strip() else stderr.strip()
    hidden = [*environment_secrets(), *secrets]
    return ToolResult(output=scrub(stdout, hidden), error=scrub(error, hidden) if error else None,
                      duration_s=time.perf_counter() - t0)


# -- what this machine offers --------------------------------------------------------------------

_PROBED: dict[str, bool] = {}


def _probe(level: Level) -> bool:
    if level not in _PROBED:
        ok = False
        if level == "process":
            ok = True
        elif sys.platform.startswith("linux") and (
                shutil.which("bwrap") if level == "bwrap" else shutil.which("unshare") and (
                    shutil.which("setpriv") or os.path.exists("/usr/bin/setpriv"))):
            try:
                r = run_python("print(6 * 7)", SandboxLimits(wall_s=10), isolation=level)
                ok = r.ok and r.output.strip() == "42"
            except (OSError, RuntimeError):
                ok = False
        _PROBED[level] = ok
    return _PROBED[level]


def bwrap_available() -> bool:
    """Whether bubblewrap is installed and can build the sandbox here (probed once per process)."""
    return _probe("bwrap")


def namespaces_available() -> bool:
    """Whether unshare + setpriv can build the (weak) namespace sandbox here (probed once)."""
    return _probe("namespaces")


def isolation_available() -> Level:
    """The best isolation level this machine offers: "bwrap", "namespaces" or "process"."""
    if bwrap_available():
        return "bwrap"
    return "namespaces" if namespaces_available() else "process"


def isolation_description(level: Level | None = None) -> str:
    level = level or isolation_available()
    return {
        "bwrap": "bwrap (user/mount/pid/net/ipc/uts namespaces, minimal read-only file system, tmpfs work "
                 "folder, uid 65534, no capabilities" + (", seccomp" if seccomp_program() else "")
                 + ") + rlimits + audit hook",
        "namespaces": "namespaces via unshare (weak: the host file system stays readable) + rlimits + audit hook",
        "process": "process + rlimits + audit hook (weak: no OS isolation; file system, network and other "
                   "processes are guarded in Python only)",
    }[level]


def require_sandbox(allow_weak: bool = False) -> Level:
    """The level the python tool will use; a WeakSandbox (one line, exit 2) when it is not a real
    boundary and `allow_weak` is false."""
    level = isolation_available()
    if level not in STRONG and not allow_weak:
        why = ("bubblewrap is installed but cannot build its sandbox here (are unprivileged user namespaces "
               "disabled or restricted, e.g. kernel.apparmor_restrict_unprivileged_userns=1?)"
               if shutil.which("bwrap") else f"bubblewrap is not installed ({INSTALL_HINT})")
        raise WeakSandbox(f"the python tool's sandbox needs bubblewrap and this machine offers only {level!r} "
                          f"isolation: {why}; pass --allow-weak-sandbox to run with the weak sandbox anyway")
    return level
