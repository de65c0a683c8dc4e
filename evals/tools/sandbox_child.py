"""The child side of the python sandbox. Runs as a script (`python -I -S sandbox_child.py ...`)
using only the standard library; never imported by the harness.

    setup WORKDIR   inside fresh user/mount/net/pid namespaces: remount every mount read-only
                    except WORKDIR, then drop all capabilities (setpriv) and exec `run`
                    (as a child process: the code is never pid 1)
    run WORKDIR     read the model's code from stdin, install the audit hook, execute the code
                    (under bwrap, `--drop-to-nobody` first leaves the namespace's uid 0)
"""

import os
import sys

# What the audit hook refuses. The hook keeps its own frozen copies (closure variables, not these
# module globals): code that reaches this module (`import __main__`) cannot edit them.
BLOCKED_IMPORTS = frozenset({"ctypes", "_ctypes", "cffi", "_posixsubprocess", "_xxsubinterpreters"})
# process creation, signalling, and the introspection that would reach the hook itself
BLOCKED_EVENTS = frozenset({
    "os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
    "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill",
    "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.settrace", "sys.setprofile",
    "sys._current_frames",
})
# attributes whose assignment would rewrite a function (the hook's or a stdlib one it calls)
BLOCKED_SETATTR = frozenset({"__code__", "__closure__", "__globals__", "__defaults__", "__kwdefaults__"})
# Events that modify the file system: allowed only for paths inside the working directory.
# value: the argument positions that are paths
FS_EVENTS = {
    "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1), "os.link": (0, 1),
    "os.symlink": (1,), "os.chmod": (0,), "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,),
    "shutil.rmtree": (0,), "os.setxattr": (0,), "os.removexattr": (0,),
}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


def _decode_mount_path(raw):
    # /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo
    out, i = [], 0
    while i < len(raw):
        if raw[i] == "\\" and raw[i + 1 : i + 4].isdigit():
            out.append(chr(int(raw[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return "".join(out)


def apply_limits(flags):
    """Set the rlimits passed as `--limits=CPU_S,AS_BYTES,FSIZE_BYTES,NPROC` (inherited by children)."""
    import resource

    spec = next((f.partition("=")[2] for f in flags if f.startswith("--limits=")), None)
    if spec is None:
        return
    cpu, mem, fsize, nproc = (int(x) for x in spec.split(","))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def _started_fds(flags):
    return [int(f.partition("=")[2]) for f in flags if f.startswith("--started-fd=")]


def _signal_started(flags):
    """Tell the harness the sandbox is set up and the model's code comes next: from now on every
    failure is the code's (a harness never raises on what the code writes to stderr)."""
    for fd in _started_fds(flags):
        os.write(fd, b"1")
        os.close(fd)


def setup(workdir, *flags):
    import subprocess

    apply_limits(flags)

    with open("/proc/self/mountinfo") as f:
        points = [_decode_mount_path(line.split()[4]) for line in f]
    failed = []
    for point in points:
        r = subprocess.run(["mount", "-o", "remount,bind,ro", point], capture_output=True)
        if r.returncode != 0:
            failed.append(point)
    if "/" in failed:
        sys.stderr.write("sandbox setup failed: cannot make / read-only\n")
        sys.exit(70)
    for args in (["--bind", workdir, workdir], ["-o", "remount,bind,rw", workdir]):
        if subprocess.run(["mount", *args], capture_output=True).returncode != 0:
            sys.stderr.write("sandbox setup failed: cannot mount the working directory\n")
            sys.exit(70)
    os.chdir(workdir)  # re-enter through the new writable mount (the old cwd is on the read-only one)
    setpriv = "/usr/bin/setpriv" if os.path.exists("/usr/bin/setpriv") else "setpriv"
    # the code must not be pid 1 of the namespace: init ignores signals it has no handler for
    # (SIGXCPU, a raised SIGSEGV), so run it as a child and report its fate as 128 + signal
    child = subprocess.run([
        setpriv, "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--",
        sys.executable, "-I", "-S", "-B", os.path.abspath(__file__), "run", workdir, *flags,
    ], pass_fds=_started_fds(flags))
    sys.exit(128 - child.returncode if child.returncode < 0 else child.returncode)


def _make_hook(workdir):
    """The audit hook. Everything it uses is bound here, as closure variables: rebinding a name in
    this module, in `os`/`posixpath` or in `builtins` does not change what the hook does."""
    root = os.path.realpath(workdir)
    own_pid = str(os.getpid())
    realpath, fsdecode, isdir, sep = os.path.realpath, os.fsdecode, os.path.isdir, os.sep
    _isinstance, _any, _len, _str, _int = isinstance, any, len, str, int
    _PermissionError, _ImportError, _Exception, _BaseException = PermissionError, ImportError, Exception, BaseException
    blocked_imports, blocked_events, blocked_setattr = BLOCKED_IMPORTS, BLOCKED_EVENTS, BLOCKED_SETATTR
    fs_events, write_flags = dict(FS_EVENTS), WRITE_FLAGS

    def resolve(path):
        try:
            return realpath(fsdecode(path))
        except _Exception:
            return None

    def inside(real):
        return real is not None and (real == root or real.startswith(root + sep) or real == "/dev/null")

    def other_process(real):  # /proc/<pid>/... of any process but this one
        if real is None or not real.startswith("/proc/"):
            return False
        first = real[6:].partition("/")[0]
        return first.isdigit() and first != own_pid

    def hook(event, args):
        try:
            check(event, args)
        except (_PermissionError, _ImportError):
            raise
        except _BaseException:  # fail closed: e.g. a stdlib function the check uses was broken
            raise _PermissionError(f"sandbox: {event} refused (it could not be checked)") from None

    def check(event, args):
        if event in blocked_events or event.startswith("socket."):
            raise _PermissionError(f"sandbox: {event} is not allowed")
        if event == "import" and args[0].partition(".")[0] in blocked_imports:
            raise _ImportError(f"sandbox: import of {args[0]} is not allowed")
        if event == "object.__setattr__" and _len(args) > 1 and args[1] in blocked_setattr:
            raise _PermissionError(f"sandbox: setting {args[1]} is not allowed")
        if event == "open":
            path, mode, flags = args
            if _isinstance(path, _int) or path is None:
                return  # an already open descriptor
            real = resolve(path)
            name = path if type(path) is _str else repr(path)
            if real is None or other_process(real) or real.rstrip("/").endswith(("/environ", "/mem")) and \
                    real.startswith("/proc/"):
                raise _PermissionError(f"sandbox: reading {name} is not allowed")
            if not inside(real) and isdir(real):  # a directory fd outside is a dir_fd escape route
                raise _PermissionError(f"sandbox: opening the directory {name} is not allowed")
            writing = (_isinstance(mode, _str) and _any(c in mode for c in "wax+")) or (
                _isinstance(flags, _int) and flags & write_flags)
            if writing and not inside(real):
                raise _PermissionError(f"sandbox: writing outside the working directory ({name}) is not allowed")
        elif event in fs_events:
            for i in fs_events[event]:
                if i < _len(args) and args[i] is not None and not (_isinstance(args[i], _int) or inside(
                        resolve(args[i]))):
                    raise _PermissionError(f"sandbox: {event} outside the working directory is not allowed")

    return hook


def drop_to_nobody():
    """(bwrap, harness running as root) Leave the namespace's uid 0, which bwrap needed for its setup,
    for the unprivileged 65534; no capability may survive."""
    if os.getuid() == 0:
        os.setgroups([])
        os.setresgid(65534, 65534, 65534)
        os.setresuid(65534, 65534, 65534)
    with open("/proc/self/status") as f:
        status = {k: v.strip() for k, _, v in (line.partition(":") for line in f)}
    # inheritable capabilities may stay: with no_new_privs (bwrap sets it) no exec can make them effective
    if os.getuid() == 0 or status.get("NoNewPrivs") != "1" or any(
            int(status.get(k, "0"), 16) for k in ("CapEff", "CapPrm", "CapAmb")):
        sys.stderr.write("sandbox setup failed: could not drop privileges\n")
        sys.exit(70)


def run(workdir, *flags):
    import ast
    import traceback

    if "--drop-to-nobody" in flags:
        drop_to_nobody()
    apply_limits(flags)  # again: harmless when inherited from `setup`, needed without namespaces

    os.chdir(workdir)
    _signal_started(flags)  # the sandbox is ready: what happens from here on is the code's doing
    code = sys.stdin.read()
    sys.stdin = open(os.devnull)  # noqa: SIM115 - the model's code gets an empty stdin
    try:
        tree = ast.parse(code, "<tool>")
    except SyntaxError:
        traceback.print_exc(limit=0)
        sys.exit(1)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):  # echo a final expression, like a REPL
        last = ast.Expression(tree.body.pop().value)
    body = compile(tree, "<tool>", "exec")
    tail = compile(last, "<tool>", "eval") if last is not None else None
    if "--no-audit-hook" not in flags:  # tests use this to check the OS layer on its own
        sys.addaudithook(_make_hook(workdir))  # no local keeps the hook: frames do not lead to it
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        exec(body, namespace)
        if tail is not None:
            value = eval(tail, namespace)
            if value is not None:
                print(repr(value))
    except SystemExit:
        raise
    except BaseException as exc:  # the model's own error: show its traceback without our frames
        te = traceback.TracebackException.from_exception(exc)
        te.stack = traceback.StackSummary.from_list([f for f in te.stack if f.filename == "<tool>"])
        sys.stderr.write("".join(te.format()))
        sys.exit(1)
    sys.stdout.flush()


if __name__ == "__main__":
    {"setup": setup, "run": run}[sys.argv[1]](*sys.argv[2:])
