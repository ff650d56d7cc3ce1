# SPDX-License-Identifier: GPL-2.0
"""Helpers for tracer's tests: run programs, read JSON lines, assert clearly.

Every assertion helper raises AssertionError with a message that says what
was expected, what came instead, and (for command results) the command line,
its exit status and the tail of its output.

TRACER_TEST_BACKEND=NAME (fentry, kprobe or tracepoint) runs the suite
against one backend: every tracer run of a tracing command (tfo, pktleak)
that does not choose a backend itself gets `--backend NAME`, and the tests
that go through "every backend this kernel allows" take NAME only. Tests of
`auto` itself and of refused backends name their backend explicitly and run
as they do without it. Unset or empty: tracer's default, auto. tests/vm/
sets it to run the suite once per backend in each kernel it boots.
"""
import functools
import json
import os
import shlex
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# TRACER_BIN and TRACER_PROGS point the suite at another build (`make
# sanitize`: .output/sanitize/tracer and .output/sanitize/tests); relative
# paths are taken from the repository root.
TRACER = os.path.join(ROOT, os.environ.get("TRACER_BIN") or "tracer")
PROGS = os.path.join(ROOT, os.environ.get("TRACER_PROGS") or
                     os.path.join(".output", "tests"))
# Set by tests/sanitize.sh: tracer and the test programs run under ASan.
SANITIZED = bool(os.environ.get("TRACER_SANITIZED"))
SRC_PROGS = os.path.join(ROOT, "tests", "progs")
COMMANDS = ("tfo", "probe")
TRACING_COMMANDS = ("tfo", "pktleak")
MSG_FASTOPEN = 0x20000000

BACKEND = os.environ.get("TRACER_TEST_BACKEND", "")
# The kernel-matrix guests (tests/vm/vmtest.sh) boot with vmtest.* options.
with open("/proc/cmdline") as _f:
    IN_GUEST = "vmtest." in _f.read()
# The backend a guest runs backend-independent tests under (both kernels of
# the matrix allow it, and it starts faster than fentry under emulation).
GUEST_ONCE_BACKEND = "kprobe"


def once_per_guest(what):
    """In the guests, run a check that no backend changes under one backend
    only: the suite runs once per backend there, under CPU emulation."""
    if IN_GUEST and BACKEND and BACKEND != GUEST_ONCE_BACKEND:
        skip(f"{what} is the same on every backend: run once per kernel in"
             f" the kernel-matrix guests, under {GUEST_ONCE_BACKEND}")
if BACKEND not in ("", "fentry", "kprobe", "tracepoint"):
    sys.exit(f"TRACER_TEST_BACKEND={BACKEND!r}: expected fentry, kprobe or"
             " tracepoint (or unset for auto)")


class Skip(Exception):
    """Raised by skip(); the runner prints the reason."""


def skip(reason):
    raise Skip(reason)


QUICK = bool(os.environ.get("TRACER_TEST_QUICK"))


def slow(func):
    """Mark a test that takes seconds (soak, repeated runs):
    TRACER_TEST_QUICK=1 skips it, for a fast run while editing."""
    @functools.wraps(func)
    def wrapper():
        if QUICK:
            skip("slow test: TRACER_TEST_QUICK is set")
        return func()
    return wrapper


def note(text):
    """A figure worth seeing (timings): printed under the test's line."""
    print(f"  # {text}", flush=True)


class Result:
    """What a finished command did."""

    def __init__(self, argv, code, out, err, seconds):
        self.argv = argv
        self.code = code
        self.out = out
        self.err = err
        self.seconds = seconds

    def describe(self):
        def tail(text):
            lines = text.rstrip("\n").splitlines()[-15:]
            return "".join(f"\n    | {line}" for line in lines) or " (empty)"

        return (f"\n  command: {shlex.join(self.argv)}"
                f"\n  exit: {self.code}"
                f"\n  stdout:{tail(self.out)}"
                f"\n  stderr:{tail(self.err)}")

    def json(self):
        """stdout as JSON lines, every line an object."""
        events, other = split_output(self.out)
        if other:
            raise AssertionError(
                f"stdout line is not JSON: {other[0]!r}{self.describe()}")
        return events


def split_output(text):
    """Split stdout into JSON objects (lines starting with '{') and the rest.

    `tracer -j tfo -- CMD` shares stdout with CMD, so both appear there.
    """
    events, other = [], []
    for line in text.splitlines():
        if not line.startswith("{"):
            if line.strip():
                other.append(line)
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise AssertionError(f"bad JSON line {line!r}: {e}") from None
        if not isinstance(obj, dict):
            raise AssertionError(f"JSON line is not an object: {line!r}")
        events.append(obj)
    return events, other


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run(argv, timeout=30, input=None, env=None):
    """Run argv from the repository root; kill its whole group on timeout."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, text=True,
                            stdin=subprocess.PIPE if input else
                            subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        res = Result(argv, None, out, err, time.monotonic() - start)
        raise AssertionError(f"timed out after {timeout} s{res.describe()}")
    return Result(argv, proc.returncode, out, err, time.monotonic() - start)


def wait_file(path, proc, seconds=20):
    """Whether @path appears within @seconds while @proc runs."""
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def fdinfo_ids(pid, field):
    """The values of @field ("link_id", "prog_id") in the fdinfo of the
    fds process @pid holds; empty if it is gone."""
    ids = set()
    fdinfo = f"/proc/{pid}/fdinfo"
    try:
        fds = os.listdir(fdinfo)
    except OSError:
        return ids
    for fd in fds:
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                ids.update(int(line.split()[1]) for line in f
                           if line.startswith(field + ":"))
        except (OSError, ValueError, IndexError):
            continue
    return ids


def bpf_link_ids(pid):
    """Ids of the BPF links process @pid holds an fd of."""
    return fdinfo_ids(pid, "link_id")


def bpf_links(pid):
    """`bpftool -j link show` entries of @pid's links, each with the name
    of its program added ("prog_name")."""
    ids = bpf_link_ids(pid)
    links = json.loads(run(["bpftool", "-j", "link", "show"]).out or "[]")
    progs = json.loads(run(["bpftool", "-j", "prog", "show"]).out or "[]")
    names = {p["id"]: p.get("name", "") for p in progs}
    mine = [lk for lk in links if lk.get("id") in ids]
    for lk in mine:
        lk["prog_name"] = names.get(lk.get("prog_id"), "?")
    return mine


def need_tracer():
    if not os.access(TRACER, os.X_OK):
        raise AssertionError(f"{TRACER} not found: run `make` first")
    return TRACER


def default_backend():
    """The backend tracer runs with when a test names none."""
    return BACKEND or "auto"


def tracer_argv(*args, force_backend=True):
    """argv of `tracer ARGS`. With TRACER_TEST_BACKEND set and force_backend
    true, `--backend NAME` goes before the command if the command traces and
    ARGS choose no backend."""
    argv = [need_tracer(), *args]
    if not (BACKEND and force_backend) or "--backend" in args:
        return argv
    # The command is the first argument that is neither a global option (-j,
    # --json, -v, -vv; --backend NAME is excluded above) nor -o's FILE.
    command, it = None, iter(args)
    for a in it:
        if a in ("-o", "--output"):
            next(it, None)
        elif not a.startswith("-"):
            command = a
            break
    if command in TRACING_COMMANDS:
        argv[1:1] = ["--backend", BACKEND]
    return argv


def tracer(*args, timeout=30, force_backend=True, **kw):
    return run(tracer_argv(*args, force_backend=force_backend),
               timeout=timeout, **kw)


def prog(name):
    """Path of a compiled tests/progs/NAME.c (`make test-progs`)."""
    path = os.path.join(PROGS, name)
    if not os.access(path, os.X_OK):
        raise AssertionError(f"{path} not found: run `make test-progs`")
    return path


def in_netns(argv):
    """argv run in a new network namespace with only loopback, up.

    Its sysctls, sockets and listeners vanish with it. argv is exec'd, so its
    pid and exit status are the namespace's.
    """
    return ["unshare", "-n", "sh", "-c",
            'ip link set lo up && exec "$@"', "sh", *argv]


def need_root():
    if os.geteuid() != 0:
        skip("needs root (loads BPF programs)")


def python():
    return sys.executable


# ------------------------------------------------------------- assertions

def check(cond, message, res=None):
    if not cond:
        raise AssertionError(message + (res.describe() if res else ""))


def eq(actual, expected, what, res=None):
    check(actual == expected,
          f"{what}: expected {expected!r}, got {actual!r}", res)


def contains(text, part, what, res=None):
    check(part.lower() in (text or "").lower(),
          f"{what}: expected it to mention {part!r}, got {text!r}", res)


def exit_code(res, code):
    eq(res.code, code, "exit status", res)


def one_error_line(res):
    """The usage/feature error contract: one stderr line, 'Error: ...'."""
    lines = res.err.strip("\n").splitlines()
    check(len(lines) == 1 and lines[0].startswith("Error:"),
          "stderr: expected exactly one line starting with 'Error:'", res)
    return lines[0]


def find(events, **match):
    """Events whose fields equal every key=value in match."""
    return [e for e in events
            if all(k in e and e[k] == v for k, v in match.items())]


def find_one(events, what="event", res=None, **match):
    found = find(events, **match)
    desc = ", ".join(f"{k}={v!r}" for k, v in match.items())
    if len(found) != 1:
        shown = "\n    ".join(json.dumps(e) for e in events[:30])
        raise AssertionError(
            f"expected one {what} with {desc}, found {len(found)};"
            f" events:\n    {shown}" + (res.describe() if res else ""))
    return found[0]


def fields(event, what, **expected):
    """Check several fields of one event, reporting all mismatches at once."""
    bad = [f"{k}: expected {v!r}, got {event.get(k, '<missing>')!r}"
           for k, v in expected.items() if event.get(k, object()) != v]
    check(not bad, f"{what}: " + "; ".join(bad) + f"\n  event: {json.dumps(event)}")


# ------------------------------------------------------------ the kernel

_probe = None


def probe():
    """`tracer -j probe`, once: {"features": {name: {"ok", "reason"}}, ...}."""
    global _probe
    if _probe is None:
        res = tracer("-j", "probe")
        exit_code(res, 0)
        found = find(res.json(), event="probe")
        check(len(found) == 1, "tracer -j probe: expected one probe event",
              res)
        _probe = found[0]
    return _probe


def feature(name):
    """(ok, reason) of one probed feature."""
    f = probe().get("features", {}).get(name)
    check(isinstance(f, dict) and "ok" in f,
          f"tracer -j probe: no features.{name}.ok in {probe()!r}")
    return f["ok"], f.get("reason")
