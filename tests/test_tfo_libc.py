# SPDX-License-Identifier: GPL-2.0
"""`tracer tfo`'s libc layer in every process of the traced tree.

Each process of `-- COMMAND` (and the new children of `-p PID`) gets its own
uprobes on libc's send wrappers while ptrace holds it at its creation and at
each exec: children and grandchildren of a shell, programs through `env`,
static glibc and musl programs (the wrappers are in the executable), a
program whose libc is musl's, not tracer's glibc. Each send says
`libc_status`: "seen" (with `libc_flags`), "bypassed" (libc probed in that
process, the call came without it) or "not_probed" (with `libc_why`).
"""
import os
import re
import signal
import sys
import subprocess
import tempfile
import time

from lib import (MSG_FASTOPEN, PROGS, check, eq, exit_code, fields,
                 find, find_one, in_netns, need_root, note, prog, run, skip,
                 split_output, tracer_argv)

PORT = 47001  # nothing listens on it in a fresh network namespace
STATUSES = ("seen", "bypassed", "not_probed")


def trace(argv, *options, timeout=60, verbose=False):
    """`tracer -j [-v] tfo [options] -- argv` in a fresh network namespace."""
    need_root()
    res = run(in_netns(tracer_argv("-j", *(("-v",) if verbose else ()),
                                   "tfo", *options, "--", *argv)),
              timeout=timeout)
    events, other = split_output(res.out)
    for e in find(events, event="send"):
        check(e.get("libc_status") in STATUSES,
              f"libc_status of {e}", res)
        check((e["libc_status"] == "not_probed") == bool(e.get("libc_why")),
              f"libc_why goes with not_probed only: {e}", res)
        check((e["libc_status"] == "seen") == (e.get("libc_flags")
                                               is not None),
              f"libc_flags goes with seen only: {e}", res)
    return res, events, other


def clients(lines):
    """Output of sequential clients: {pid: [call dicts]} in order."""
    runs, pid = {}, None
    for line in lines:
        m = re.match(r"\S+ pid=(\d+)$", line)
        if m:
            pid = int(m.group(1))
            runs[pid] = []
            continue
        name, *pairs = line.split()
        if pid is None or not pairs:
            continue
        call = dict(p.split("=", 1) for p in pairs)
        call["call"] = name
        call["flags"] = int(call["flags"], 0)
        runs[pid].append(call)
    return runs


def check_seen(res, events, runs, count):
    """Every client's every send: one event, seen, libc_flags as passed."""
    eq(len(runs), count, "clients that ran", res)
    for pid, calls in runs.items():
        mine = find(events, event="send", pid=pid)
        check(calls, f"client {pid} reported no call", res)
        for call in calls:
            # send() is the sendto syscall (no address: addrlen 0)
            e = find_one(mine, what=f"send event of pid {pid}", res=res,
                         syscall=("sendto" if call["call"] == "send" else
                                  call["call"]),
                         addrlen=int(call["addrlen"]))
            fields(e, f"pid {pid}'s {call['call']}", libc_status="seen",
                   libc_flags=call["flags"], libc_function=call["call"],
                   flags=call["flags"], libc_why=None)


def verdict(events, res):
    v = find(events, event="verdict")
    eq(len(v), 1, "verdict events", res)
    return v[0]


def variant(name):
    path = os.path.join(PROGS, name)
    if not os.access(path, os.X_OK):
        skip(f"{path} not built (musl-gcc missing? `make deps test-progs`)")
    return path


def test_libc_shell_children_and_grandchildren():
    c = prog("tfo_client")
    script = (f"{c} {PORT}; {c} {PORT} | cat; sh -c '{c} {PORT}'; "
              f"(sh -c 'env {c} {PORT}')")
    res, events, other = trace(["sh", "-c", script])
    exit_code(res, 0)
    check_seen(res, events, clients(other), 4)
    v = verdict(events, res)
    fields(v, "verdict", libc_seen=8, libc_bypassed=0, libc_not_probed=0,
           libc_changes_flags=False, rejected_by="kernel")


def test_libc_through_env():
    res, events, other = trace(["env", "X=1", prog("tfo_client"), str(PORT),
                                "--send"])
    exit_code(res, 0)
    check_seen(res, events, clients(other), 1)


def test_libc_static_glibc():
    res, events, other = trace([variant("tfo_client_static"), str(PORT),
                                "--send"])
    exit_code(res, 0)
    check_seen(res, events, clients(other), 1)


def test_libc_static_musl():
    res, events, other = trace([variant("tfo_client_musl_static"),
                                str(PORT), "--send"])
    exit_code(res, 0)
    check_seen(res, events, clients(other), 1)


def test_libc_dynamic_musl():
    path = variant("tfo_client_musl")
    if not os.path.exists("/lib/ld-musl-x86_64.so.1"):
        skip("/lib/ld-musl-x86_64.so.1 missing (musl not installed here)")
    res, events, other = trace(["sh", "-c", f"{path} {PORT} --send"])
    exit_code(res, 0)
    check_seen(res, events, clients(other), 1)


def test_libc_syscall_sender_bypassed():
    res, events, other = trace([prog("tfo_syscall_client"), str(PORT)])
    exit_code(res, 0)
    runs = clients(other)
    eq(len(runs), 1, "clients that ran", res)
    pid, calls = next(iter(runs.items()))
    eq(len(calls), 2, "calls the client reported", res)
    for call in calls:
        e = find_one(find(events, event="send", pid=pid), res=res,
                     what="send event", syscall=call["call"])
        fields(e, f"syscall(2) {call['call']}", libc_status="bypassed",
               libc_function=None, libc_flags=None, flags=MSG_FASTOPEN)
    v = verdict(events, res)
    fields(v, "verdict", libc_seen=0, libc_bypassed=2, libc_not_probed=0,
           rejected_by="kernel")
    check(v["rejections"], "rejections of the syscall(2) sends", res)


def test_go_program_without_libc():
    """Go's syscall package makes the calls itself: no libc in the binary.
    tests/progs/tfo_go's MSG_FASTOPEN sendto with an address and sendmsg
    without one are reported as the program saw them, libc as not probed
    for want of a send wrapper (not "bypassed", which would say a libc was
    there), and the verdict names the kernel."""
    res, events, other = trace([variant("tfo_go"), str(PORT)])
    exit_code(res, 0)
    runs = clients(other)
    eq(len(runs), 1, "Go programs that ran", res)
    pid, calls = next(iter(runs.items()))
    eq([c["call"] for c in calls], ["sendto", "sendmsg"], "Go's calls", res)
    for call in calls:
        e = find_one(find(events, event="send", pid=pid), res=res,
                     what="send event", syscall=call["call"])
        ok = call["errno"] == "none"
        fields(e, f"Go's {call['call']}", flags=call["flags"],
               addrlen=int(call["addrlen"]),
               errno=None if ok else call["errno"],
               libc_status="not_probed", libc_function=None)
        if ok:
            eq(e["ret"], int(call["ret"]), f"Go's {call['call']}: ret")
        check("no send wrapper" in e["libc_why"],
              f"libc_why of Go's {call['call']}: {e['libc_why']}", res)
    v = verdict(events, res)
    fields(v, "verdict", libc_seen=0, libc_bypassed=0, libc_not_probed=2,
           rejected_by="kernel")
    find_one(v["rejections"], what="the sendmsg rejection", res=res,
             syscall="sendmsg", errno="EINVAL")


def test_libc_all_without_libc_is_not_probed():
    res, events, other = trace([prog("tfo_client"), str(PORT)], "--all")
    exit_code(res, 0)
    mine = find(events, event="send", libc_status="not_probed")
    check(len(mine) >= 2, "not_probed sends with --all", res)
    for e in mine:
        check("--libc" in e["libc_why"], f"libc_why names --libc: {e}", res)
    check(not find(events, event="send", libc_status="bypassed"),
          "no send may be 'bypassed' when libc was not probed", res)


def test_libc_exit_status_passed_through():
    res, _, _ = trace(["sh", "-c", f"{prog('tfo_client')} {PORT}; exit 7"])
    exit_code(res, 7)
    res, _, _ = trace(["sh", "-c", "kill -TERM $$"])
    exit_code(res, 128 + signal.SIGTERM)


def test_libc_signals_and_job_control_unchanged():
    """Signals reach their handlers; SIGSTOP/SIGCONT still stop and go."""
    script = ("trap 'echo got-usr1' USR1; kill -USR1 $$; "
              "sleep 5 & p=$!; kill -STOP $p; sleep 0.2; kill -CONT $p; "
              "kill -TERM $p; wait $p; echo sleep-status=$?")
    res, _, other = trace(["sh", "-c", script])
    exit_code(res, 0)
    check("got-usr1" in other, f"SIGUSR1 handler output: {other}", res)
    check("sleep-status=143" in other,
          f"the stopped, continued then terminated child: {other}", res)


def _traced_or_stopped(pids):
    """pid -> (state, TracerPid) of those of @pids still there."""
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                st = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        out[pid] = (st["State"].strip(), int(st["TracerPid"]))
    return out


def _read_pids(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [int(p) for p in f.read().split()]


def _kill_tree_test(sig):
    need_root()
    with tempfile.TemporaryDirectory(prefix="tracer-test-") as tmp:
        ready, pids = os.path.join(tmp, "ready"), os.path.join(tmp, "pids")
        script = (f"sleep 30 & echo $! > {pids}; sleep 30 & "
                  f"echo $! >> {pids}; echo $$ >> {pids}; wait")
        t = subprocess.Popen(tracer_argv("tfo", "--ready-file", ready, "--",
                                         "sh", "-c", script),
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and \
                    len(_read_pids(pids)) < 3:
                time.sleep(0.05)
            procs = _read_pids(pids)
            before = _traced_or_stopped(procs)
            check(all(tp == t.pid for _, tp in before.values()),
                  f"the tree is traced by tracer ({t.pid}): {before}")
            t.send_signal(sig)
            # (wait, not communicate: the survivors hold no pipe of ours)
            t.wait(timeout=15)
            time.sleep(0.3)
            after = _traced_or_stopped(procs)
        finally:
            if t.poll() is None:
                t.kill()
                t.wait()
            for p in _read_pids(pids):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    return after, t.pid


def _uprobe_event_groups():
    for d in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"):
        try:
            with open(os.path.join(d, "uprobe_events")) as f:
                return set(re.findall(r"^\w:(tracer_\d+)/", f.read(), re.M))
        except OSError:
            continue
    return set()


def test_libc_sigkill_leaves_nothing_traced_or_stopped():
    after, killed = _kill_tree_test(signal.SIGKILL)
    # PTRACE_O_EXITKILL: the spawned tree dies with tracer.
    left = {p: s for p, s in after.items() if not s[0].startswith("Z")}
    eq(left, {}, "processes of the tree left after SIGKILL of tracer")
    # Its uprobe events stay until the next tracer removes them.
    res, _, _ = trace(["true"])
    exit_code(res, 0)
    group = f"tracer_{killed}"
    check(group not in _uprobe_event_groups(),
          f"uprobe events of the killed tracer ({group}) after the next run:"
          f" {sorted(_uprobe_event_groups())}")


def test_libc_sigterm_leaves_nothing_traced_or_stopped():
    after, stopped = _kill_tree_test(signal.SIGTERM)
    check(f"tracer_{stopped}" not in _uprobe_event_groups(),
          "uprobe events left by a tracer stopped with SIGTERM")
    # The shell got the SIGTERM; its children go on, untraced, running.
    bad = {p: s for p, s in after.items()
           if s[1] != 0 or s[0][0] in "tT"}
    eq(bad, {}, "processes left traced or stopped after SIGTERM")


def test_libc_pid_children_of_a_shell():
    """-p PID of a shell that forks a client after tracing began."""
    need_root()
    c = prog("tfo_client")
    with tempfile.TemporaryDirectory(prefix="tracer-test-") as tmp:
        ready = os.path.join(tmp, "ready")
        shell = subprocess.Popen(
            ["unshare", "-n", "sh", "-c", f"read x; {c} {PORT}; "
             f"sh -c '{c} {PORT}'"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        t = subprocess.Popen(tracer_argv("-j", "tfo", "-p", str(shell.pid),
                                         "--ready-file", ready),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        try:
            deadline = time.monotonic() + 20
            while not os.path.exists(ready) and time.monotonic() < deadline \
                    and t.poll() is None:
                time.sleep(0.02)
            check(os.path.exists(ready), "--ready-file never appeared")
            out, _ = shell.communicate("go\n", timeout=20)
            tout, terr = t.communicate(timeout=20)
        finally:
            for p in (shell, t):
                if p.poll() is None:
                    p.kill()
                    p.communicate()
        eq(t.returncode, 0, f"tracer -p exit status (stderr: {terr})")
        events, _ = split_output(tout)
        runs = clients(out.splitlines())
        res = run(["true"])  # (a Result for check_seen's messages)
        res.out, res.err = tout, terr
        check_seen(res, events, runs, 2)


def test_libc_fork_exec_cost():
    """fork+exec of /bin/true, untraced and under tracer: the figures."""
    fe, n = prog("forkexec"), 150
    plain = run([fe, str(n), "/bin/true"], timeout=120)
    exit_code(plain, 0)
    res, _, other = trace([fe, str(n), "/bin/true"], timeout=300,
                          verbose=True)
    exit_code(res, 0)
    per = [float(re.search(r"per_us=([\d.]+)", x).group(1))
           for x in (plain.out, "\n".join(other))]
    held = re.search(r"ptrace: .*", res.err)
    note(f"fork+exec {n}x: {per[0]:.0f} us each untraced, {per[1]:.0f} us "
         f"under tracer ({per[1] / per[0]:.2f}x); "
         f"{held.group(0) if held else 'no ptrace figures'}")


def test_libc_pid_ptrace_refused_falls_back():
    """-p PID of a process already under strace: ptrace is refused; its own
    libc is still probed, its children's sends say why theirs is not."""
    need_root()
    if not os.access("/usr/bin/strace", os.X_OK):
        skip("strace not installed (make deps)")
    c = prog("tfo_client")
    with tempfile.TemporaryDirectory(prefix="tracer-test-") as tmp:
        ready = os.path.join(tmp, "ready")
        st = subprocess.Popen(
            ["unshare", "-n", "strace", "-o", "/dev/null", "sh", "-c",
             f"read x; {c} {PORT}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        t = None
        try:
            deadline = time.monotonic() + 10
            shell = None
            while shell is None and time.monotonic() < deadline:
                kids = run(["pgrep", "-P", str(st.pid), "-x", "sh"]).out
                shell = int(kids.split()[0]) if kids.split() else None
                time.sleep(0.02)
            check(shell, "the shell under strace never started")
            t = subprocess.Popen(tracer_argv("-j", "tfo", "-p", str(shell),
                                             "--ready-file", ready),
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            while not os.path.exists(ready) and t.poll() is None and \
                    time.monotonic() < deadline + 10:
                time.sleep(0.02)
            out, _ = st.communicate("go\n", timeout=20)
            tout, terr = t.communicate(timeout=20)
        finally:
            for p in (st, t):
                if p and p.poll() is None:
                    p.kill()
                    p.communicate()
    eq(t.returncode, 0, f"tracer -p exit status (stderr: {terr})")
    check("cannot ptrace" in terr, f"stderr says ptrace was refused: {terr}")
    events, _ = split_output(tout)
    runs = clients(out.splitlines())
    eq(len(runs), 1, f"clients that ran: {out!r}")
    pid = next(iter(runs))
    mine = find(events, event="send", pid=pid)
    check(mine, f"sends of the client: {tout}")
    for e in mine:
        fields(e, "child of a process tracer could not ptrace",
               libc_status="not_probed")
        check("ptrace" in e["libc_why"] and "refused" in e["libc_why"],
              f"libc_why says ptrace was refused: {e}")


def test_libc_exec_from_a_thread():
    """A thread other than the leader execs: the process's new image (under
    the leader's pid) still gets its uprobes."""
    c = prog("tfo_client")
    code = ("import os, sys, threading\n"
            "sys.stdout.flush()\n"
            f"t = threading.Thread(target=os.execv, args=({c!r}, "
            f"[{c!r}, {str(PORT)!r}]))\n"
            "t.start()\nt.join()\n")
    res, events, other = trace([sys.executable, "-c", code])
    exit_code(res, 0)
    check_seen(res, events, clients(other), 1)
