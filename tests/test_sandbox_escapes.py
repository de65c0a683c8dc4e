"""Escape attempts an attacker would make against the python tool's sandbox, each asserted contained.

Most run with the audit hook switched off (`audit_hook=False`): what must hold is the operating
system's boundary, as if the model's code had disabled the hook. The bwrap tests fail (never skip)
when bubblewrap is missing: `make test` installs it. A fake API key sits in the environment of every
harness these tests start; it must appear in no tool output.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from evals.errors import UserError
from evals.tools import sandbox
from evals.tools.base import ToolResult
from evals.tools.sandbox import (
    INSTALL_HINT,
    SandboxLimits,
    WeakSandbox,
    bwrap_available,
    isolation_available,
    namespaces_available,
    require_sandbox,
    run_python,
)

ROOT = Path(__file__).resolve().parents[1]
SECRET = "sk-test-probity-" + "7f3a9c1e5b2d4f6a8c0e"
LIMITS = SandboxLimits(wall_s=5, cpu_s=2, memory_mb=256, nproc=8, fsize_mb=1, output_chars=2000, disk_mb=4)
WEAK = ["process", pytest.param("namespaces", marks=pytest.mark.skipif(
    not namespaces_available(), reason="user namespaces (unshare/setpriv) are not available here"))]


def _need_bwrap() -> None:
    if not shutil.which("bwrap"):
        pytest.fail(f"bubblewrap (bwrap) is not installed, so the python tool has no real sandbox here: "
                    f"{INSTALL_HINT} (`make test` does this when apt-get is available)")
    if not bwrap_available():
        pytest.fail("bubblewrap is installed but cannot build the sandbox here (are user namespaces "
                    "disabled? try `bwrap --unshare-all --ro-bind / / true`)")


@pytest.fixture(autouse=True)
def _fake_secret(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)


def _clean(r: ToolResult) -> ToolResult:
    """No form of the secret in what the model sees: as written, or hex-encoded by the code."""
    seen = (r.output + (r.error or "")).lower()
    assert SECRET.lower() not in seen and SECRET.encode().hex() not in seen, r
    return r


def bw(code: str, limits: SandboxLimits = LIMITS, hook: bool = False) -> ToolResult:
    _need_bwrap()
    return _clean(run_python(code, limits, "bwrap", audit_hook=hook))


def _harness_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST",)}
    env.update(OPENAI_API_KEY=SECRET, PYTHONPATH=str(ROOT), **extra)
    return env


_HARNESS = """
import json, sys
from evals.tools.sandbox import SandboxLimits, run_python
spec = json.loads(sys.argv[1])
r = run_python(spec["code"], SandboxLimits(**spec["limits"]), spec["isolation"], audit_hook=spec["hook"])
print(json.dumps({"output": r.output, "error": r.error}))
"""


def _limits_dict(limits: SandboxLimits) -> dict:
    return {k: getattr(limits, k) for k in limits.__dataclass_fields__}


def in_harness(code: str, isolation: str, hook: bool = True, limits: SandboxLimits = LIMITS,
               **env: str) -> ToolResult:
    """Run the code from a separate harness process whose *initial* environment holds the secret
    (what /proc/<pid>/environ shows; setting os.environ later does not change that)."""
    spec = json.dumps({"code": code, "isolation": isolation, "hook": hook, "limits": _limits_dict(limits)})
    p = subprocess.run([sys.executable, "-c", _HARNESS, spec], capture_output=True, text=True, timeout=120,
                       env=_harness_env(**env), cwd=ROOT)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout.strip().splitlines()[-1])
    return _clean(ToolResult(d["output"], d["error"]))


def _marked(marker: str) -> list[int]:
    """PIDs (host view) whose command line holds `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


def _wait_gone(marker: str, within_s: float = 5.0) -> list[int]:
    deadline = time.monotonic() + within_s
    while (left := _marked(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def _orphan_code(marker: str, detach: bool = True) -> str:
    """Code that leaves a `setsid` double-forked grandchild (exec'd python with `marker` in its
    command line) sleeping behind, then returns at once. The marker is written reversed: a harness
    whose own command line holds the code must not match it."""
    return f"""
import os, sys
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(120)", {marker[::-1]!r}[::-1]])
    os._exit(0)
os.wait()
{"" if detach else "import time; time.sleep(120)"}
print("parent done")
"""


# -- the level in use and the refusal of weak ones -----------------------------------------------

def test_bwrap_is_the_level_in_use():
    _need_bwrap()
    assert isolation_available() == "bwrap" and require_sandbox() == "bwrap"
    assert "bwrap" in sandbox.isolation_description()


def test_weak_machine_refuses_without_the_flag(monkeypatch):
    monkeypatch.setattr(sandbox, "_PROBED", {"bwrap": False, "namespaces": False, "process": True})
    assert isolation_available() == "process"
    with pytest.raises(WeakSandbox) as exc:
        require_sandbox()
    assert isinstance(exc.value, UserError) and len(exc.value.lines) == 1
    assert "--allow-weak-sandbox" in str(exc.value) and "bubblewrap" in str(exc.value)
    assert require_sandbox(allow_weak=True) == "process"
    monkeypatch.setattr(sandbox, "_PROBED", {"bwrap": False, "namespaces": True, "process": True})
    with pytest.raises(WeakSandbox):
        require_sandbox()


# -- switching off the audit hook ----------------------------------------------------------------

_DISABLE_HOOK = """
import gc, os, sys, builtins, posixpath
import __main__
steps = []
for name in ("BLOCKED_IMPORTS", "BLOCKED_EVENTS", "BLOCKED_SETATTR"):
    try:
        getattr(__main__, name).clear()
        steps.append("cleared " + name)
    except Exception as e:
        steps.append(f"{name}: {type(e).__name__}")
try:
    __main__.BLOCKED_IMPORTS = set(); __main__.BLOCKED_EVENTS = set()
except Exception as e:
    steps.append(f"rebind: {type(e).__name__}")
try:
    for obj in gc.get_objects():
        if callable(obj) and getattr(obj, "__name__", "") in ("hook", "inside", "resolve"):
            obj.__code__ = (lambda *a, **k: None).__code__
            steps.append("replaced " + obj.__name__)
except Exception as e:
    steps.append(f"gc: {type(e).__name__}")
try:
    frame = sys._getframe()
    while frame:
        for v in list(frame.f_locals.values()):
            if callable(v) and getattr(v, "__code__", None) is not None and v.__name__ in ("hook", "inside"):
                v.__code__ = (lambda *a, **k: True).__code__
                steps.append("frame-replaced " + v.__name__)
        frame = frame.f_back
except Exception as e:
    steps.append(f"frames: {type(e).__name__}")
try:
    posixpath.realpath = lambda p, *a, **k: os.getcwd(); os.path.realpath = posixpath.realpath
    __main__.os = None
except Exception as e:
    steps.append(f"patch: {type(e).__name__}")
try:
    import ctypes
    steps.append("ESCAPED: ctypes imported")
except ImportError:
    steps.append("ctypes refused")
try:
    os.system("id > escaped.txt")
    steps.append("ESCAPED: os.system ran")
except PermissionError:
    steps.append("os.system refused")
try:
    import subprocess
    subprocess.run(["/bin/sh", "-c", "true"])
    steps.append("ESCAPED: subprocess ran")
except (PermissionError, ImportError):
    steps.append("subprocess refused")
try:
    open("/etc/escaped-probity", "w")
    steps.append("ESCAPED: wrote /etc")
except PermissionError:
    steps.append("write refused")
except OSError:
    steps.append("write failed")
print(steps)
"""


@pytest.mark.parametrize("isolation", ["bwrap", *WEAK])
def test_audit_hook_cannot_be_switched_off(isolation):
    if isolation == "bwrap":
        _need_bwrap()
    r = _clean(run_python(_DISABLE_HOOK, LIMITS, isolation))
    assert r.ok, r
    assert "ESCAPED" not in r.output, r.output
    for needle in ("ctypes refused", "os.system refused", "subprocess refused", "gc: PermissionError",
                   "BLOCKED_IMPORTS: AttributeError"):
        assert needle in r.output, r.output
    assert "replaced" not in r.output


@pytest.mark.parametrize("isolation", WEAK)
def test_audit_hook_fails_closed_when_builtins_are_broken(isolation, tmp_path):
    target = tmp_path / "escaped.txt"
    code = f"import builtins\nbuiltins.isinstance = lambda *a: True\nopen({str(target)!r}, 'w').write('x')"
    r = _clean(run_python(code, LIMITS, isolation))
    assert r.error and not target.exists()


# -- secrets: the environment, the parent's /proc/<pid>/environ ----------------------------------

_ENVIRON_HUNT = """
import os
data = repr(dict(os.environ))
pids = {str(os.getppid()), "1"} | {p for p in os.listdir("/proc") if p.isdigit()}
for pid in sorted(pids):
    for how in ("absolute", "relative", "symlink", "self-root"):
        try:
            if how == "absolute":
                data += open(f"/proc/{pid}/environ", errors="replace").read()
            elif how == "relative":
                os.chdir(f"/proc/{pid}")
                try:
                    data += open("environ", errors="replace").read()
                finally:
                    os.chdir(HOME)
            elif how == "symlink":
                link = os.path.join(HOME, f"env-{pid}")
                os.symlink(f"/proc/{pid}/environ", link)
                data += open(link, errors="replace").read()
            else:
                data += open(f"/proc/{pid}/root/proc/{pid}/environ", errors="replace").read()
        except OSError as e:
            pass
print(data.encode().hex())
print("hunted", len(pids))
""".replace("HOME", "os.environ['HOME']")


@pytest.mark.parametrize("isolation", ["bwrap", *WEAK])
def test_parent_environment_is_out_of_reach(isolation):
    """Relative path after chdir('/proc/<pid>'), a symlink, and the absolute path, for every PID
    the code can see; the harness's initial environment holds the secret."""
    if isolation == "bwrap":
        _need_bwrap()
    r = in_harness(_ENVIRON_HUNT, isolation)
    assert "hunted" in r.output or r.error, r  # _clean() asserted that no form of the secret came back
    if isolation == "bwrap":  # and with the hook off, the OS layer alone holds
        r = in_harness(_ENVIRON_HUNT, isolation, hook=False)
        assert "hunted" in r.output, r


def test_environment_is_minimal_and_outputs_are_scrubbed():
    r = bw("import os\nprint(sorted(os.environ))")
    assert r.ok and "OPENAI_API_KEY" not in r.output and "PATH" in r.output
    # a secret the harness knows of is scrubbed from whatever the code prints
    r = _clean(run_python(f"print({SECRET[:10]!r} + {SECRET[10:]!r})", LIMITS, "bwrap" if shutil.which("bwrap")
                          else "process"))
    assert "[redacted]" in r.output
    r = run_python("print('my-harness-token-123')", LIMITS, "process", secrets=["my-harness-token-123"])
    assert "my-harness-token-123" not in r.output and "[redacted]" in r.output


# -- the file system view ------------------------------------------------------------------------

def test_dir_fd_writes_outside_are_contained(tmp_path):
    target = tmp_path / "outside"
    target.mkdir()
    (target / "victim").write_text("keep me")
    (target / "victim").chmod(0o600)
    code = f"""
import os
fd = os.open({str(target)!r}, os.O_RDONLY | os.O_DIRECTORY)
print("GOT DIR FD")
for name, op in [
    ("create", lambda: os.close(os.open("new.txt", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd))),
    ("mkdir", lambda: os.mkdir("newdir", dir_fd=fd)),
    ("mkfifo", lambda: os.mkfifo("fifo", dir_fd=fd)),
    ("chmod", lambda: os.chmod("victim", 0o777, dir_fd=fd)),
    ("remove", lambda: os.remove("victim", dir_fd=fd)),
    ("symlink", lambda: os.symlink("/", "link", dir_fd=fd)),
    ("setxattr", lambda: os.setxattr("victim", "user.x", b"1", follow_symlinks=False)),
]:
    try:
        op(); print("ESCAPED", name)
    except OSError as e:
        print(name, type(e).__name__)
"""
    results = [run_python(code, LIMITS, "process")]
    if namespaces_available():
        results.append(run_python(code, LIMITS, "namespaces"))
    _need_bwrap()
    results += [run_python(code, LIMITS, "bwrap"), run_python(code, LIMITS, "bwrap", audit_hook=False)]
    for r in results:
        _clean(r)
        assert "ESCAPED" not in r.output and "GOT DIR FD" not in r.output, r
    assert sorted(os.listdir(target)) == ["victim"] and (target / "victim").read_text() == "keep me"
    assert stat.S_IMODE((target / "victim").stat().st_mode) == 0o600


def test_host_files_are_invisible(tmp_path):
    """/etc/shadow, a file planted in the harness user's home, the project checkout: none is there."""
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    planted = home / ".config" / "credentials"
    planted.write_text("PLANTED-" + SECRET)
    code = f"""
import os
for p in ["/etc/shadow", "/etc/passwd", {str(planted)!r}, {str(ROOT / 'README.md')!r}, {str(ROOT)!r},
          "/root", os.path.expanduser("~/.config/credentials"), "/var/run/docker.sock", "/run", "/tmp", "/home"]:
    try:
        if os.path.isdir(p):
            print("LISTED", p, os.listdir(p))
        else:
            print("READ", p, open(p, "rb").read(200).hex())
    except OSError as e:
        print("absent", p, type(e).__name__)
print("root", sorted(os.listdir("/")))
print("etc", sorted(os.listdir("/etc")))
print("home", os.path.expanduser("~"))
"""
    _need_bwrap()
    for hook in (False, True):
        r = in_harness(code, "bwrap", hook=hook, HOME=str(home))
        assert r.ok, r
        lines = r.output.splitlines()
        assert not [line for line in lines if line.startswith(("READ", "LISTED /work/main", "LISTED /run",
                                                               "LISTED /tmp", "LISTED /home"))], r.output
        # /root holds at most the way to the Python runtime (pyenv lives there), nothing else of home
        runtime = Path(sys.base_prefix).resolve()
        expect = [f"LISTED /root {[runtime.parts[2]]!r}"] if runtime.parts[1:2] == ("root",) else []
        assert [line for line in lines if line.startswith("LISTED /root")] == expect, r.output
        assert b"PLANTED".hex() not in r.output
        top = eval(next(line for line in lines if line.startswith("root "))[5:])
        assert set(top) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "probity", "proc", "usr",
                            "work", *Path(sys.base_prefix).parts[1:2]}, top
        assert eval(next(line for line in lines if line.startswith("etc "))[4:]) in ([], ["ld.so.cache"])
        assert "home /work" in lines


def test_runtime_and_work_folder_only():
    r = bw("""
import os
print(os.getuid(), os.getgid(), os.getpid() < 10, len([p for p in os.listdir('/proc') if p.isdigit()]) < 10)
print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])
for p in ['/x', '/usr/lib/x', '/dev/x', '/dev/shm/x', '/proc/x', '/etc/x']:
    try:
        open(p, 'w'); print('WROTE', p)
    except OSError as e:
        print('ro', p)
open('/work/ok', 'w').write('fine'); print(open('/work/ok').read())
""")
    assert r.ok, r
    lines = r.output.splitlines()
    assert lines[0] == "65534 65534 True True" and lines[1] == "0000000000000000", r.output
    assert "WROTE" not in r.output and lines[-1] == "fine"


def test_seccomp_and_no_new_namespaces():
    if sandbox.seccomp_program() is None:
        pytest.skip("no seccomp filter is defined for this architecture")
    with open("/proc/self/status") as f:
        outside = int(f.read().split("Seccomp_filters:")[1].split()[0])
    r = bw("""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print("filters", open("/proc/self/status").read().split("Seccomp_filters:")[1].split()[0])
handle = ctypes.create_string_buffer(128)
handle[0:4] = (8).to_bytes(4, "little")
mount_id = ctypes.c_int()
for name, nr, args in [("unshare-user", 272, (0x10000000,)), ("ptrace", 101, (16, 1, 0, 0)),
                       ("keyctl", 250, (0, -3, 1, 0)), ("bpf", 321, (0, 0, 0)),
                       ("process_vm_readv", 310, (1, 0, 0, 0, 0, 0)),
                       ("name_to_handle_at", 303, (-100, b"/work", handle, ctypes.byref(mount_id), 0))]:
    rc = libc.syscall(nr, *args)
    print(name, rc, os.strerror(ctypes.get_errno()))
""")
    assert r.ok, r
    lines = r.output.splitlines()
    assert int(lines[0].split()[1]) > outside, r.output  # our filter is loaded on top of any the host has
    for line in lines[1:]:  # each refused by the filter (EPERM), not merely failing for another reason
        assert line.split()[1] == "-1" and "not permitted" in line, r.output


# -- network and IPC -----------------------------------------------------------------------------

def test_unix_socket_listener_is_unreachable(tmp_path):
    path = str(tmp_path / "host.sock")
    abstract = f"\0probity-test-{uuid.uuid4().hex}"
    listeners = []
    for addr in (path, abstract):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(addr)
        s.listen(4)
        s.setblocking(False)
        listeners.append(s)
    code = f"""
import socket
for addr in ({path!r}, {abstract!r}):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(addr); s.sendall(b"hello"); print("CONNECTED", repr(addr))
    except OSError as e:
        print("refused", type(e).__name__)
"""
    try:
        for hook in (False, True):
            r = bw(code, hook=hook)
            assert "CONNECTED" not in r.output, r
        for s in listeners:
            with pytest.raises(BlockingIOError):
                s.accept()
    finally:
        for s in listeners:
            s.close()


def test_tcp_to_a_loopback_listener_is_unreachable():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.setblocking(False)
    port = srv.getsockname()[1]
    code = f"""
import socket
for host in ("127.0.0.1", "localhost", "1.1.1.1"):
    try:
        socket.create_connection((host, {port}), timeout=2).sendall(b"x"); print("CONNECTED", host)
    except OSError as e:
        print("refused", host, type(e).__name__)
"""
    try:
        r = bw(code)
        assert "CONNECTED" not in r.output and r.output.count("refused") == 3, r
        with pytest.raises(BlockingIOError):
            srv.accept()
    finally:
        srv.close()


# -- processes -----------------------------------------------------------------------------------

_FORK_COUNT = """
import os, time
n = 0
try:
    while n < 500:
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        n += 1
    print("UNBOUNDED", n)
except OSError as e:
    print("limited", n, type(e).__name__)
"""


def test_fork_loop_is_bounded():
    r = bw(_FORK_COUNT)
    assert "UNBOUNDED" not in r.output and "limited" in r.output, r
    assert int(r.output.split()[1]) < LIMITS.nproc, r.output
    r = bw("import os\nwhile True:\n    os.fork()", SandboxLimits(wall_s=5, cpu_s=2, nproc=8))
    assert r.error, r  # contained: stopped by a limit, and the next call works
    assert bw("print(6 * 7)").output.strip() == "42"


@pytest.mark.parametrize("isolation", ["bwrap", pytest.param("namespaces", marks=pytest.mark.skipif(
    not namespaces_available(), reason="user namespaces (unshare/setpriv) are not available here"))])
def test_setsid_orphans_do_not_outlive_the_call(isolation):
    marker = f"probity-orphan-{uuid.uuid4().hex}"
    if isolation == "bwrap":
        r = bw(_orphan_code(marker))
    else:
        r = _clean(run_python(_orphan_code(marker), LIMITS, isolation, audit_hook=False))
    assert "parent done" in r.output, r
    left = _wait_gone(marker)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes outlived the call: {left}"


def _start_and_kill9(spec: str, marker: str) -> subprocess.Popen[bytes]:
    """Start a harness running the tool call `spec`, wait until the call's `marker` process runs,
    then SIGKILL the harness (no cleanup code of it runs)."""
    harness = subprocess.Popen([sys.executable, "-c", _HARNESS, spec], env=_harness_env(), cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not _marked(marker):
            assert harness.poll() is None and time.monotonic() < deadline, "the tool call never started"
            time.sleep(0.05)
    finally:
        harness.kill()
        harness.wait()
    return harness


def _kill_harness_mid_call(isolation: str) -> tuple[list[int], list[str], int]:
    marker = f"probity-kill9-{uuid.uuid4().hex}"
    limits = _limits_dict(SandboxLimits(wall_s=60, cpu_s=30, nproc=8))
    spec = json.dumps({"code": _orphan_code(marker, detach=False), "isolation": isolation, "hook": False,
                       "limits": limits})
    before = set(glob.glob(os.path.join(sandbox.tempfile.gettempdir(), sandbox.TMP_PREFIX + "*")))
    harness = _start_and_kill9(spec, marker)
    left = _wait_gone(marker)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    after = set(glob.glob(os.path.join(sandbox.tempfile.gettempdir(), sandbox.TMP_PREFIX + "*")))
    return left, sorted(after - before), harness.pid


def test_kill_9_of_the_harness_kills_the_sandbox_and_leaves_no_folder():
    _need_bwrap()
    left, folders, _ = _kill_harness_mid_call("bwrap")
    assert not left, f"sandbox processes outlived the harness: {left}"
    assert not folders, folders


def test_kill_9_of_the_harness_weak_level_cleans_up_next_time():
    # the process level: the sandbox's first process dies with the harness (PDEATHSIG); its orphans
    # are exactly what this level cannot contain, so the code here does not detach (no setsid)
    marker = f"probity-kill9-weak-{uuid.uuid4().hex}"
    code = ("import sys, os\nos.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(120)', "
            f"{marker[::-1]!r}[::-1]])")
    spec = json.dumps({"code": code, "isolation": "process", "hook": False,
                       "limits": _limits_dict(SandboxLimits(wall_s=60, cpu_s=30))})
    harness = _start_and_kill9(spec, marker)
    left = _wait_gone(marker)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"the sandbox process outlived the harness: {left}"
    stale = glob.glob(os.path.join(sandbox.tempfile.gettempdir(), f"{sandbox.TMP_PREFIX}{harness.pid}-*"))
    run_python("print(1)", LIMITS, "process")  # the next call removes folders of dead harnesses
    assert not [p for p in stale if os.path.exists(p)]


# -- resources -----------------------------------------------------------------------------------

def test_disk_fill_is_bounded_by_the_quota():
    r = bw("""
import os
total = 0
try:
    for i in range(1000):
        with open(f"/work/fill{i}", "wb") as f:
            for _ in range(16):
                f.write(b"x" * (64 * 1024 - 1)); f.flush(); total += 64 * 1024 - 1
except OSError as e:
    print("stopped", total, e.strerror)
""")
    assert "stopped" in r.output, r
    total = int(r.output.split()[1])
    assert total <= LIMITS.disk_mb * 1024 * 1024 and "No space left" in r.output, r.output


def test_file_size_is_capped():
    r = bw("open('/work/big', 'wb').write(b'x' * (3 * 1024 * 1024))")
    assert r.error and ("File too large" in r.error or "file size" in r.error), r


def test_ten_gigabytes_are_refused():
    r = bw("x = bytearray(10 * 1024 ** 3)\nprint('allocated')")
    assert r.error and "MemoryError" in r.error and "allocated" not in r.output


def test_hundred_megabytes_of_output_are_truncated():
    t0 = time.monotonic()
    r = bw("import sys\nfor _ in range(100):\n    sys.stdout.write('y' * (1024 * 1024))")
    assert r.error and "output limit" in r.error and len(r.output) < LIMITS.output_chars + 100, r.error
    assert time.monotonic() - t0 < 60


def test_infinite_loops_are_killed():
    r = bw("while True:\n    pass")
    assert r.error and "CPU time" in r.error
    marker = f"probity-loop-{uuid.uuid4().hex}"
    r = bw(f"import os, sys\nos.execv(sys.executable, [sys.executable, '-c', 'while True: pass', {marker!r}])",
           SandboxLimits(wall_s=1, cpu_s=30))
    assert r.error and "wall clock" in r.error and r.duration_s < 15, r
    assert not _wait_gone(marker)
    r = bw("import time\ntime.sleep(60)", SandboxLimits(wall_s=1, cpu_s=1))
    assert r.error and "wall clock" in r.error and r.duration_s < 15


@pytest.mark.parametrize("isolation", ["bwrap", *WEAK])
def test_code_cannot_pass_for_a_broken_sandbox(isolation):
    """A harness error (RuntimeError) is for setup failures only: code that imitates one, or does
    not even parse, is the code's own error."""
    if isolation == "bwrap":
        _need_bwrap()
    for code in ("import sys\nsys.stderr.write('sandbox setup failed: fake\\n')\nsys.exit(70)",
                 "import sys\nsys.stderr.write('bwrap: Can\\'t mount\\n')\nsys.exit(1)", "def broken(:"):
        r = _clean(run_python(code, LIMITS, isolation))
        assert r.error and "exit status" in r.error, r


def test_a_broken_sandbox_is_the_harness_error(monkeypatch):
    _need_bwrap()
    monkeypatch.setattr(sandbox, "_runtime_binds", lambda: ["--ro-bind", "/nonexistent-probity", "/x"])
    with pytest.raises(RuntimeError, match="sandbox setup failed"):
        run_python("print(1)", LIMITS, "bwrap")
