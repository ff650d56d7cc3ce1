# SPDX-License-Identifier: GPL-2.0
"""Reliability: a soak of `pktleak --all`, hundreds of children under `tfo --
CMD`, two tracers at once, SIGKILL/SIGTERM at random moments, small resource
limits, and `-p` on a PID that exits, a zombie and a reused PID.

"Nothing left behind" is judged by tracer's own objects, since other tracer
runs may overlap on this machine: processes of the tracer's session (the tests
start it with setsid; its children and the namespaces they hold stay in it
unless they leave), BPF programs with tracer's names (tfo_*, pkt_*, libc_*,
probe_*) that appeared during the run and that no process holds an fd of
(a program held by a live process of another session is someone else's run),
named network namespaces (`ip netns`) and pinned objects in /sys/fs/bpf.
Anonymous namespaces live only as long as a process or fd holds them: a
leftover process is what would keep one.

Random moments come from a seeded generator; the seed is printed with each
test's figures (RELIABILITY_SEED=N repeats a run).
"""
import collections
import json
import os
import random
import signal
import subprocess
import tempfile
import threading
import time

from lib import (IN_GUEST, MSG_FASTOPEN, SANITIZED, check, contains, eq,
                 exit_code, fdinfo_ids, find, find_one, in_netns, need_root,
                 note, once_per_guest, prog, python, run, skip, slow,
                 split_output, tracer_argv, wait_file)
from test_pktleak import in_lab, need_pktleak

CLOSED_PORT = 47001  # nothing listens on it in a fresh network namespace
TRACER_PROGRAM_PREFIXES = ("tfo_", "pkt_", "libc_", "probe_")
SEED = int(os.environ.get("RELIABILITY_SEED") or time.time_ns() % 100000)
# Under CPU emulation every run takes several times longer and the suite has
# 300 s per backend there: the guests run fewer rounds of the same checks.
TCG = "in the kernel-matrix guests (QEMU TCG, 300 s per backend)"


def rounds(host, guest):
    return guest if IN_GUEST else host


def rng(name):
    """A generator per test, so one test's draws do not shift another's."""
    return random.Random(f"{SEED}-{name}")


# ------------------------------------------------------ what is left behind

def tracer_programs():
    """{id: name} of loaded BPF programs with tracer's names."""
    progs = json.loads(run(["bpftool", "-j", "prog", "show"]).out or "[]")
    return {p["id"]: p.get("name", "") for p in progs
            if p.get("name", "").startswith(TRACER_PROGRAM_PREFIXES)}


def held_program_ids():
    """Program ids some process holds an fd of (program or link fds)."""
    ids = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        ids |= fdinfo_ids(pid, "prog_id")
    return ids


def session_processes(sid):
    """Live (not zombie) processes of session SID: 'pid stat args'."""
    out = run(["ps", "-eo", "pid=,sid=,stat=,args="]).out
    left = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if (len(parts) >= 3 and parts[1] == str(sid)
                and not parts[2].startswith("Z")):
            left.append(f"{parts[0]} {parts[2]} {parts[3:] and parts[3]}")
    return left


def named_netns():
    return set(run(["ip", "netns", "list"]).out.split())


def pinned_objects():
    if not os.path.isdir("/sys/fs/bpf"):
        return set()
    return {os.path.join(d, f) for d, _, files in os.walk("/sys/fs/bpf")
            for f in files}


class Leftovers:
    """What exists before a run, and what of the run's is left after it."""

    def __init__(self):
        self.programs = set(tracer_programs())
        self.netns = named_netns()
        self.pinned = pinned_objects()

    def after(self, sid):
        orphans = {i: n for i, n in tracer_programs().items()
                   if i not in self.programs}
        if orphans:
            held = held_program_ids()
            orphans = {i: n for i, n in orphans.items() if i not in held}
        return {"processes": session_processes(sid),
                "bpf programs held by no process": sorted(orphans.values()),
                "named netns": sorted(named_netns() - self.netns),
                "pinned": sorted(pinned_objects() - self.pinned)}

    def check(self, sid, what, timeout=5.0):
        """Poll (teardown is deferred: RCU, perf-event close) until nothing
        of the run is left, or fail with what is."""
        deadline = time.monotonic() + timeout
        while True:
            left = {k: v for k, v in self.after(sid).items() if v}
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        check(not left, f"{what}: left behind: {left}")


def kill_session(sid):
    try:
        os.killpg(sid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def start(argv, stdout=subprocess.PIPE, **kw):
    """Start argv in its own session (its pid is the session id)."""
    return subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, **kw)


def finish(proc, timeout=30):
    """communicate(), killing the session if it does not end in time."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_session(proc.pid)
        out, err = proc.communicate()
        raise AssertionError(f"{proc.args[:4]}... did not end within"
                             f" {timeout} s\n  stderr: {err[-2000:]}")


# ---------------------------------------------------------------- soak

def read_rss(pid):
    """(VmRSS, VmHWM) in kB from /proc/PID/status, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            vals = dict(line.split(":", 1) for line in f if ":" in line)
        return (int(vals["VmRSS"].split()[0]), int(vals["VmHWM"].split()[0]))
    except (OSError, KeyError, ValueError):
        return None


@slow
def test_soak_pktleak_all_reports_every_churned_socket():
    """`pktleak --all -v` while pkt_churn opens, binds and closes thousands
    of packet sockets, 50 open at a time, with noise frames on a veth pair:
    every socket is reported (per fd number, as many as pkt_churn created
    with it), tracer's RSS does not grow between the first and the last
    third of the churn, and the per-socket maps are empty at the end."""
    need_pktleak()
    total = rounds(4000, 500)
    with tempfile.TemporaryDirectory(prefix="tracer-soak-") as tmp:
        ready = os.path.join(tmp, "ready")
        out_path = os.path.join(tmp, "out")
        with open(out_path, "w") as out:
            tracer = start(tracer_argv("-j", "-v", "pktleak", "--all",
                                       "--ready-file", ready), stdout=out)
        try:
            check(wait_file(ready, tracer), "tracer never became ready")
            started = time.monotonic()
            # Niced: on one CPU (the guests) 50 churning threads would
            # otherwise starve tracer's reader and overrun the ring.
            # A noise frame a millisecond: with -v each is an event per
            # unbound socket, and faster noise overruns the ring when other
            # work (or ASan) slows tracer's reader.
            churn = start(in_lab([prog("pkt_churn"), "t0", "n0", str(total),
                                  "50", "1000"]),
                          preexec_fn=lambda: os.nice(19))
            samples = []
            while churn.poll() is None:
                rss = read_rss(tracer.pid)
                if rss:
                    samples.append((time.monotonic(), *rss))
                time.sleep(0.02)
            churn_out, churn_err = churn.communicate()
            churn_s = time.monotonic() - started
            time.sleep(0.3)  # the last close events reach the ring
            tracer.send_signal(signal.SIGINT)
            _, err = finish(tracer)
        finally:
            kill_session(tracer.pid)
        with open(out_path) as f:
            events, other = split_output(f.read())
    eq(churn.returncode, 0, f"pkt_churn exit status (stderr: {churn_err})")
    eq(tracer.returncode, 0, f"tracer exit status after SIGINT ({err[-500:]})")
    eq(other, [], "non-JSON lines on tracer's stdout")
    made = json.loads(churn_out)
    mine = find(events, event="packet_socket", pid=made["pid"])
    reported = collections.Counter(str(e["fd"]) for e in mine)
    stats = find_one(events, what="stats event", event="stats")
    eq(stats["lost_events"], 0, "events lost (ring buffer full)")
    # pkt_churn's sockets: the churned ones and its noise sender's.
    eq(made["sockets"], total + 1, "packet sockets pkt_churn created")
    eq(sum(reported.values()), total + 1,
       "packet_socket events of pkt_churn")
    eq(dict(reported), made["fds"], "sockets reported per fd number")
    eq(collections.Counter(e["closed_by"] for e in mine),
       {"close": total + 1}, "closed_by of pkt_churn's sockets")
    # a name is looked up as an interface's first frame is counted; none is
    # counted before the socket's entry is filled in (published())
    unnamed = [e["reached_by_ifname"] for e in mine
               if any(k.startswith("ifindex ") for k in e["reached_by_ifname"])]
    eq(unnamed, [], "sockets with frames of an interface not named")
    eq(stats["live_entries"], {"sockets": 0, "pending": 0, "hook_slots": 0,
                               "traced_tgids": 0},
       "live entries of the per-socket maps at the end")
    eq(stats["nr_sockets"], 0, "BPF's count of tracked sockets at the end")
    eq(stats["nr_unbound"], 0,
       "BPF's count of unbound sockets (the device hooks' gate) at the end")

    check(len(samples) >= 9, f"only {len(samples)} RSS samples")
    third = (samples[-1][0] - samples[0][0]) / 3
    first = [s[1] for s in samples if s[0] <= samples[0][0] + third]
    last = [s[1] for s in samples if s[0] >= samples[-1][0] - third]
    note(f"seed {SEED}: {total} sockets in {churn_s:.1f} s,"
         f" {made['noise_frames']} noise frames; tracer VmRSS first third"
         f" max {max(first)} kB, last third max {max(last)} kB, VmHWM"
         f" {samples[-1][2]} kB; live map entries at the end"
         f" {stats['live_entries']}; sockets beyond the hook slots"
         f" {stats['unmatched_sockets']}")
    if SANITIZED:
        note("RSS growth not judged under ASan (its quarantine keeps freed"
             " memory by design)")
        return
    # 256 kB: malloc's arenas settle in steps; one leaked socket report
    # (~1 kB of JSON objects) per socket would be 4 MB here.
    check(max(last) <= max(first) + 256,
          f"tracer's RSS grew: first third max {max(first)} kB, last third"
          f" max {max(last)} kB")


# ------------------------------------------------------------- children

@slow
def test_tfo_command_follows_hundreds_of_children():
    """`tfo -- tfo_forks`: 400 children (100 in the guests; half of them
    exec'd), 25 alive at a time, each sendto(MSG_FASTOPEN) once: one send
    event per child, no other send event, none lost."""
    need_root()
    n = rounds(400, 100)
    with tempfile.TemporaryDirectory(prefix="tracer-forks-") as tmp:
        path = os.path.join(tmp, "children")
        res = run(in_netns(tracer_argv("-j", "tfo", "--", prog("tfo_forks"),
                                       str(CLOSED_PORT), str(n), "25")),
                  timeout=120, env=dict(os.environ, TFO_FORKS_OUT=path))
        exit_code(res, 0)
        with open(path) as f:
            forks = json.load(f)
    events = res.json()
    children = {c["pid"]: c["errno"] for c in forks["children"]}
    eq(len(children), n, "children tfo_forks reaped", res)
    eq(set(children.values()), {111}, "errno of the children's sends"
       " (ECONNREFUSED)", res)
    sends = find(events, event="send")
    per_pid = collections.Counter(e["pid"] for e in sends)
    eq(sorted(per_pid), sorted(children), "pids of the send events", res)
    eq(set(per_pid.values()), {1}, "send events per child", res)
    check(all(e["syscall"] == "sendto" and e["flags"] == MSG_FASTOPEN
              and e["errno"] == "ECONNREFUSED" for e in sends),
          f"send events: {[e for e in sends if e['errno'] != 'ECONNREFUSED']}"
          , res)
    verdict = find_one(events, what="verdict", event="verdict", res=res)
    eq(verdict["lost_events"], 0, "lost events", res)
    eq(verdict["sends"], n, "verdict's send count", res)


# ------------------------------------- exact verdict under an overrun ring

def send_count_line(events, res):
    """send_count's own JSON line (it shares tracer's stdout)."""
    mine = [e for e in events if "event" not in e and "sendmsg" in e]
    eq(len(mine), 1, "send_count's result lines", res)
    return mine[0]


def test_tfo_verdict_exact_under_overrun_ring():
    """`tfo --all --ring-size 4096 -- send_count N`: a ring of 4096 bytes
    (13 records) overruns at once, records are dropped (lost_events > 0),
    and the verdict's totals, kept in BPF, still equal send_count's own
    count by syscall and errno; the text verdict says they are exact and
    how many records were dropped."""
    need_root()
    n = rounds(30000, 3000)
    argv = ["tfo", "--all", "--ring-size", "4096", "--",
            prog("send_count"), str(n)]
    res = run(in_netns(tracer_argv("-j", *argv)), timeout=120)
    exit_code(res, 0)
    events = res.json()
    own = send_count_line(events, res)
    eq(own["other"], 0, "send_count's unexpected results", res)
    verdict = find_one(events, what="verdict", event="verdict", res=res)
    totals = verdict["totals"]
    lost = verdict["lost_events"]
    sends = find(events, event="send")
    note(f"{n} sends; {len(sends)} send records arrived, {lost} lost; "
         f"totals {totals['by_syscall_errno_origin']}")
    check(lost > 0, f"the 4096-byte ring was not overrun: {lost} lost", res)
    eq(len(sends) + lost, n, "send records arrived + lost", res)
    eq(totals["source"], "bpf", "totals' source", res)
    eq(totals["exact"], True, "totals exact", res)
    eq(totals["from_records"]["sends"], len(sends), "sends from records",
       res)
    eq(verdict["sends"], n, "verdict's send count", res)
    got = collections.Counter()
    for g in totals["by_syscall_errno_origin"]:
        got[(g["syscall"], g["errno"] or "ok")] += g["sends"]
        eq(g["example_comm"], "send_count", "example process", res)
    want = {("sendto", "ok"): own["sendto"]["ok"],
            ("sendto", "EINVAL"): own["sendto"]["EINVAL"],
            ("sendmsg", "ok"): own["sendmsg"]["ok"]}
    eq(dict(got), want, "verdict's sends by syscall and errno", res)
    eq(verdict["rejected"], own["sendto"]["EINVAL"], "rejected sends", res)
    eq(verdict["libc_without_wrapper"], n, "sends without a libc wrapper",
       res)
    text = run(in_netns(tracer_argv(*argv)), timeout=120)
    exit_code(text, 0)
    verdict_text = text.out.split("\nVerdict\n")[-1]
    contains(verdict_text, f"totals: exact (BPF counters): {n} sends; ",
             "text verdict's totals line", text)
    contains(verdict_text, "detailed records dropped (ring buffer full)",
             "text verdict's totals line", text)
    contains(verdict_text, f"kernel: rejected {own['sendto']['EINVAL']} "
             "sends", "text verdict's rejections", text)
    contains(verdict_text, "records)", "figures said to be from records",
             text)


# ------------------------------------------------- two tracers at once

WAIT_THEN = 'while [ ! -e "$0" ]; do sleep 0.01; done; '


def both_programs(go):
    """A command that waits for file GO, then sends with tfo_client and
    opens a packet socket with pkt_capture (which also sends 10 raw frames
    with sendto)."""
    return ["sh", "-c", WAIT_THEN + '"$1" 47001 --plain; exec "$2" t0 n0 20'
            ' 10', go, prog("tfo_client"), prog("pkt_capture")]


def run_side_by_side(argvs):
    """Start each argv (each writes --ready-file to the path after it),
    create the go file once all are ready, return [(res-like, out, err)]."""
    with tempfile.TemporaryDirectory(prefix="tracer-two-") as tmp:
        go = os.path.join(tmp, "go")
        procs = []
        try:
            for i, make in enumerate(argvs):
                ready = os.path.join(tmp, f"ready{i}")
                procs.append((start(make(ready, go)), ready))
            for proc, ready in procs:
                if not wait_file(ready, proc):
                    kill_session(proc.pid)
                    raise AssertionError(f"tracer {proc.args} never became"
                                         f" ready: {proc.communicate()[1]}")
            open(go, "w").close()
            outputs = [finish(proc, 60) for proc, _ in procs]
            return [(proc.returncode, *out)
                    for (proc, _), out in zip(procs, outputs)]
        finally:
            for proc, _ in procs:
                kill_session(proc.pid)


def client_pid(lines):
    found = [int(line.split("pid=")[1]) for line in lines
             if line.startswith("tfo_client pid=")]
    check(len(found) == 1, f"tfo_client's pid line in {lines}")
    return found[0]


@slow
def test_two_tracers_tfo_and_pktleak_see_only_their_own():
    """`tfo --all -- CMD` and `pktleak -- CMD` at once, each CMD running
    tfo_client and pkt_capture in its own namespace: tfo reports the sends
    of its own two programs only, pktleak the packet sockets of its own."""
    need_pktleak()
    tfo, pkt = run_side_by_side([
        lambda ready, go: in_lab(tracer_argv(
            "-j", "tfo", "--all", "--ready-file", ready, "--",
            *both_programs(go))),
        lambda ready, go: in_lab(tracer_argv(
            "-j", "pktleak", "--ready-file", ready, "--",
            *both_programs(go)))])
    t_events, t_other = split_output(tfo[1])
    p_events, p_other = split_output(pkt[1])
    t_client, p_client = client_pid(t_other), client_pid(p_other)
    t_sends = find(t_events, event="send")
    p_sockets = find(p_events, event="packet_socket")
    p_capture = {e["pid"] for e in p_sockets if e["protocol"] == 3}
    check(len(p_capture) == 1, f"pktleak: pkt_capture's socket: {p_sockets}")
    (p_capture,) = p_capture
    t_pids = collections.Counter(e["pid"] for e in t_sends)
    eq(t_pids[t_client], 3, "tfo: send events of its own tfo_client")
    t_capture = [p for p in t_pids if p != t_client]
    check(len(t_capture) == 1 and t_pids[t_capture[0]] == 10,
          f"tfo: its own pkt_capture's 10 frame sends, in {dict(t_pids)}")
    check(p_client not in t_pids and p_capture not in t_pids,
          f"tfo saw the other tracer's programs: {dict(t_pids)}, other's"
          f" client {p_client}, capture {p_capture}")
    check(all(e["pid"] == p_capture for e in p_sockets),
          f"pktleak: sockets of other processes: {p_sockets}")
    check(t_capture[0] != p_capture, "the two pkt_capture pids differ")
    eq(find(p_sockets, pid=t_capture[0]), [],
       "pktleak: sockets of the other tracer's pkt_capture")
    eq(find(p_sockets, pid=t_client), [],
       "pktleak: sockets of the other tracer's client")


@slow
def test_two_tfo_tracers_see_only_their_own():
    """Two `tfo -- tfo_client` at once (one with --all): each reports its
    own client's sends, all of them, and none of the other's."""
    need_root()

    def client(go):
        return ["sh", "-c", WAIT_THEN + 'exec "$1" 47001 --plain', go,
                prog("tfo_client")]

    a, b = run_side_by_side([
        lambda ready, go: in_netns(tracer_argv(
            "-j", "tfo", "--all", "--ready-file", ready, "--", *client(go))),
        lambda ready, go: in_netns(tracer_argv(
            "-j", "tfo", "--ready-file", ready, "--", *client(go)))])
    for name, res, sends in (("--all", a, 3), ("plain", b, 2)):
        eq(res[0], 0, f"tfo {name} exit status ({res[2][-300:]})")
    a_events, a_other = split_output(a[1])
    b_events, b_other = split_output(b[1])
    a_pid, b_pid = client_pid(a_other), client_pid(b_other)
    a_pids = [e["pid"] for e in find(a_events, event="send")]
    b_pids = [e["pid"] for e in find(b_events, event="send")]
    eq(a_pids, [a_pid] * 3, "tfo --all: pids of its send events (its own"
       f" client {a_pid}, the other's {b_pid})")
    eq(b_pids, [b_pid] * 2, "tfo: pids of its MSG_FASTOPEN send events (its"
       f" own client {b_pid}, the other's {a_pid})")


# -------------------------------------------- signals at random moments

PHASES = ("startup", "tracing", "shutdown")


def signal_run(argv, sig, phase, r, end_marker):
    """Run argv(ready) (tracer with --ready-file READY), send SIG in PHASE
    at a random moment, check that nothing is left. Startup: 0-150 ms after
    the start, ready or not; tracing: 0-300 ms after --ready-file appeared;
    shutdown: 0-3 ms after end_marker(line) matched a line of stdout (the
    last report line, or the command's last line). Returns whether tracer
    was still running when the signal was due, and its exit status."""
    leftovers = Leftovers()
    with tempfile.TemporaryDirectory(prefix="tracer-sig-") as tmp:
        ready = os.path.join(tmp, "ready")
        proc = start(argv(ready))
        try:
            if phase == "startup":
                time.sleep(r.uniform(0, 0.15))
            elif phase == "tracing":
                check(wait_file(ready, proc), "tracer never became ready:"
                      f" {proc.stderr.read() if proc.poll() is not None else ''}")
                time.sleep(r.uniform(0, 0.3))
            else:
                for line in proc.stdout:
                    if end_marker(line):
                        break
                time.sleep(r.uniform(0, 0.003))
            alive = proc.poll() is None
            if alive:
                os.kill(proc.pid, sig)
            finish(proc, 15)
        finally:
            kill_session(proc.pid)
    leftovers.check(proc.pid, f"{signal.Signals(sig).name} in {phase}")
    return alive, proc.returncode


def signal_matrix(name, argv, end_marker):
    """Each signal in each phase; a run that ended before its signal was due
    is repeated at another random moment, up to 3 times, and the figures
    say how many runs got their signal."""
    r = rng(name)
    hits = []
    phases = rounds(PHASES, ("tracing",))
    for phase in phases:
        for sig in rounds((signal.SIGKILL, signal.SIGTERM), (signal.SIGKILL,)):
            for attempt in range(3):
                alive, code = signal_run(argv, sig, phase, r, end_marker)
                # A SIGKILL took effect iff it is the exit status (tracer
                # may exit between the check and the kill).
                if alive and (sig != signal.SIGKILL or code == -sig):
                    break
            hits.append(f"{phase}/{sig.name}:{code}"
                        + ("" if alive else " (ended first, 3 times)"))
    note(f"seed {SEED}: exit statuses " + " ".join(hits)
         + (f" (only SIGKILL while tracing {TCG})" if IN_GUEST else ""))


def json_event(name):
    return lambda line: line.startswith("{") and f'"event":"{name}"' in line


GUEST_BUILTIN_SIGNALS = (
    f"the random moments run on the host; {TCG} the built-in runs' teardown"
    " after a signal is checked by test_tfo.test_builtin_leaves_nothing_behind"
    " and test_pktleak.test_sigkill_leaves_nothing_behind")


@slow
def test_signals_tfo_builtin_leave_nothing():
    need_root()
    if IN_GUEST:
        skip(GUEST_BUILTIN_SIGNALS)
    signal_matrix("tfo-builtin", lambda ready: tracer_argv(
        "-j", "tfo", "--ready-file", ready), json_event("verdict"))


@slow
def test_signals_tfo_command_leave_nothing():
    need_root()
    cmd = ["sh", "-c", 'for i in 1 2 3 4 5 6; do "$0" 47001 --plain'
           ' >/dev/null; sleep 0.05; done; echo done', prog("tfo_client")]
    signal_matrix("tfo-command", lambda ready: in_netns(tracer_argv(
        "-j", "tfo", "--all", "--ready-file", ready, "--", *cmd)),
        lambda line: line.strip() == "done")


@slow
def test_signals_pktleak_builtin_leave_nothing():
    need_pktleak()
    if IN_GUEST:
        skip(GUEST_BUILTIN_SIGNALS)
    signal_matrix("pktleak-builtin", lambda ready: tracer_argv(
        "-j", "pktleak", "-s", "1,3", "--gap", "300", "--ready-file", ready),
        json_event("recommendation"))


@slow
def test_signals_pktleak_command_leave_nothing():
    need_pktleak()
    cmd = ["sh", "-c", 'for i in 1 2 3; do "$0" t0 n0 30 10 >/dev/null;'
           ' done; echo done', prog("pkt_capture")]
    signal_matrix("pktleak-command", lambda ready: in_lab(tracer_argv(
        "-j", "pktleak", "--ready-file", ready, "--", *cmd)),
        lambda line: line.strip() == "done")


# ------------------------------------------------------ resource limits

def limited(limit, value, argv):
    """argv under `ulimit LIMIT VALUE` (bash's builtin: soft and hard)."""
    return ["bash", "-c", f'ulimit {limit} {value} && exec "$@"', "bash",
            *argv]


def limited_runs(limit, values, commands):
    """Run every command under each value; return [(value, cmd, res)], after
    checking each: exit 0, or one 'Error:' line (stderr, or with -j the
    error object on stdout, or stderr when even that cannot be allocated)
    and exit 1 or 3; nothing left behind."""
    results = []
    for value in values:
        for cmd in commands:
            leftovers = Leftovers()
            proc = start(limited(limit, value, tracer_argv(*cmd)))
            out, err = finish(proc, 60)
            what = f"ulimit {limit} {value}: tracer {' '.join(cmd)}"
            leftovers.check(proc.pid, what)
            results.append((value, cmd, proc.returncode, out, err))
            if proc.returncode == 0:
                continue
            if proc.returncode == 127 and "while loading shared" in err:
                continue  # the dynamic loader, before tracer runs
            check(proc.returncode in (1, 3), f"{what}: exit {proc.returncode}"
                  f"\n  stdout: {out[-500:]}\n  stderr: {err[-1000:]}")
            errors = [e for e in split_output(out)[0] if "error" in e]
            if "-j" in cmd and errors:
                check(len(errors) == 1 and out.strip().endswith(
                    json.dumps(errors[0], separators=(",", ":"))),
                      f"{what}: expected one error object, last on stdout:"
                      f" {out}")
                eq(errors[0]["exit"], proc.returncode,
                   f"{what}: exit in the error object")
                eq(err.strip(), "", f"{what}: stderr")
                message = errors[0]["error"]
            else:
                lines = err.strip("\n").splitlines()
                check(len(lines) == 1 and lines[0].startswith("Error:"),
                      f"{what}: expected one 'Error:' line on stderr, got"
                      f" {err!r}")
                message = lines[0]
            check_limit_named(what, proc.returncode, message)
    return results


RESOURCE_ERRORS = ("Too many open files", "out of memory",
                   "Cannot allocate memory")


def check_limit_named(what, code, message):
    """A limit of the process is a runtime failure (exit 1) that names the
    resource, never a kernel feature reported missing (exit 3): the kernel
    has its BTF, the limit only stopped tracer reading it."""
    if os.path.exists("/sys/kernel/btf/vmlinux"):
        check("needs vmlinux BTF" not in message,
              f"{what}: a limit reported as a missing kernel feature:"
              f" {message}")
    if any(r in message for r in RESOURCE_ERRORS):
        eq(code, 1, f"{what}: exit code of a resource error: {message}")


def summary(results):
    return "; ".join(f"{v} {' '.join(c)}: {code}" for v, c, code, _, _
                     in results)


@slow
def test_ulimit_n_small_one_line_error():
    """Open files limited from 8 up: each run ends with exit 0 or one
    'Error:' line and exit 1 or 3, and leaves nothing behind; the smallest
    limit fails."""
    need_pktleak()
    if IN_GUEST:
        skip(f"15 runs take minutes {TCG}; how tracer meets a full fd table"
             " is the same on every kernel: checked on the host")
    results = limited_runs("-n", (8, 16, 24, 32, 40), [
        ("tfo",), ("pktleak", "-s", "1"), ("-j", "tfo")])
    note(summary(results))
    check(all(code in (1, 3) for v, _, code, _, _ in results if v == 8),
          f"ulimit -n 8 did not fail: {summary(results)}")


def kernel_at_least(major, minor):
    rel = os.uname().release.split(".")
    return (int(rel[0]), int(rel[1].split("-")[0])) >= (major, minor)


@slow
def test_ulimit_memlock_small():
    """`ulimit -l 0`: since Linux 5.11 BPF memory is charged to the memory
    cgroup, not RLIMIT_MEMLOCK (libbpf raises the limit only on older
    kernels), so tracer runs as usual; before 5.11 it would need a one-line
    error and exit 1 or 3. Nothing is left behind either way."""
    need_pktleak()
    once_per_guest("BPF memory accounting")
    results = limited_runs("-l", rounds((0, 8), (0,)), [
        ("-j", "tfo"), ("-j", "pktleak", "-s", "1")])
    note(summary(results))
    if kernel_at_least(5, 11):
        for value, cmd, code, out, err in results:
            eq(code, 0, f"ulimit -l {value} tracer {' '.join(cmd)} (memlock"
               f" is not used for BPF on {os.uname().release}): {err}")
            last = json.loads(out.strip().splitlines()[-1])["event"]
            check(last in ("verdict", "recommendation"),
                  f"ulimit -l {value}: last event {last}")
    else:
        check(all(code in (1, 3) for _, _, code, _, _ in results),
              f"memlock 0 on {os.uname().release}: {summary(results)}")


@slow
def test_ulimit_v_small_one_line_error():
    """Address space limited from 6 MB up: exit 0, or one 'Error:' line
    (or error object) and exit 1 or 3, never a crash or an abort; nothing
    left behind; at least one limit fails inside tracer."""
    need_pktleak()
    if SANITIZED:
        skip("ASan reserves terabytes of shadow address space: no run"
             " starts under a small ulimit -v")
    if IN_GUEST:
        skip(f"18 runs take minutes {TCG}; how tracer meets failed"
             " allocations is the same on every kernel: checked on the host")
    results = limited_runs("-v", (6000, 8000, 12000, 16000, 24000, 48000), [
        ("tfo",), ("-j", "tfo"), ("-j", "pktleak", "-s", "1")])
    note(summary(results))
    check(any(code in (1, 3) for _, _, code, _, _ in results),
          f"no limit made tracer fail: {summary(results)}")


# ------------------------------------------------------------ -p PID

def reaped_soon(argv):
    """Start argv and reap it the moment it exits (no zombie stays)."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    threading.Thread(target=proc.wait, daemon=True).start()
    return proc


@slow
def test_pid_that_exits_while_tracer_attaches():
    """`-p PID` of a process that lives 0-300 ms, about tracer's start-up
    time: tracer exits 0 soon after the process (it attached), or 2 with
    one 'Error:' line (the process was gone); nothing left behind."""
    need_pktleak()
    once_per_guest("-p of a process that exits")
    r = rng("pid-exits")
    outcomes = collections.Counter()
    for i in range(rounds(10, 2)):
        command = ("tfo", "pktleak")[i % 2]
        life = r.uniform(0, 0.3)
        leftovers = Leftovers()
        target = reaped_soon(["sleep", f"{life:.3f}"])
        proc = start(tracer_argv(command, "-p", str(target.pid)))
        out, err = finish(proc, 10)
        what = f"tracer {command} -p (process lives {life * 1000:.0f} ms)"
        if proc.returncode == 2:
            lines = err.strip("\n").splitlines()
            check(len(lines) == 1 and lines[0].startswith("Error:")
                  and "pid" in lines[0],
                  f"{what}: exit 2: expected one 'Error:' line naming the"
                  f" pid, got {err!r}")
        else:
            eq(proc.returncode, 0, f"{what}: exit status ({err})")
        outcomes[proc.returncode] += 1
        leftovers.check(proc.pid, what)
    note(f"seed {SEED}: exit statuses {dict(outcomes)}")


@slow
def test_pid_of_a_zombie_ends_at_once():
    """`-p` of a zombie (exited, not reaped): tracer treats it as exited,
    ends within 5 s of tracing being live (--ready-file) with exit 0 and
    reports nothing of it."""
    need_pktleak()
    once_per_guest("-p of a zombie")
    zombie = subprocess.Popen(["true"])  # not reaped until wait() below
    pid = zombie.pid
    try:
        deadline = time.monotonic() + 5
        while open(f"/proc/{pid}/stat").read().split(") ")[1][0] != "Z":
            check(time.monotonic() < deadline, "the child never became a"
                  " zombie")
            time.sleep(0.01)
        for command in ("tfo", "pktleak"):
            leftovers = Leftovers()
            with tempfile.TemporaryDirectory(prefix="tracer-zombie-") as tmp:
                ready = os.path.join(tmp, "ready")
                proc = start(tracer_argv("-j", command, "-p", str(pid),
                                         "--ready-file", ready))
                wait_file(ready, proc, 60)
                live = time.monotonic()
                out, err = finish(proc, 30)
                lag = time.monotonic() - live
            eq(proc.returncode, 0, f"tracer {command} -p ZOMBIE ({err})")
            # Teardown takes seconds under TCG or a loaded host; a tracer
            # that waits for the zombie to be reaped never ends by itself.
            check(lag < rounds(5, 15), f"tracer {command} -p ZOMBIE ended"
                  f" {lag:.2f} s"
                  " after tracing was live")
            events, _ = split_output(out)
            eq(find(events, event="send") + find(events,
                                                  event="packet_socket"),
               [], f"{command} -p ZOMBIE: events of it")
            leftovers.check(proc.pid, f"{command} -p ZOMBIE")
    finally:
        zombie.wait()


REUSER = """
import socket, sys, time
s = socket.socket()
try:
    s.sendmsg([b"x"], [], socket.MSG_FASTOPEN)
except OSError:
    pass
time.sleep(60)
"""


def _held_by_ptrace(proc):
    """True when @proc, killed, stays unreaped for 2 s: a stopped ptracer
    (tracer following it) has yet to let it exit (PTRACE_EVENT_EXIT stop)
    or to collect its exit."""
    try:
        proc.wait(timeout=2)
        return False
    except subprocess.TimeoutExpired:
        with open(f"/proc/{proc.pid}/status") as f:
            status = f.read()
        # a zombie, or held in its PTRACE_EVENT_EXIT stop
        check(("\nState:\tZ" in status or "\nState:\tt" in status)
              and "\nTracerPid:\t0\n" not in status,
              f"PID {proc.pid} unreaped but not a traced zombie: {status}")
        return True


@slow
def test_pid_reused_ends_with_the_first_process():
    """`tfo -p PID`: while tracer is stopped (SIGSTOP), PID exits and a new
    process gets the same PID (clone3 with set_tid), then sends with
    MSG_FASTOPEN and lives on; tracer, continued, ends within 10 s (the
    process it was given has exited) and reports none of the second
    process's sends. (The second process lives 60 s: a tracer that took
    it for the first would run as long.)"""
    need_root()
    once_per_guest("-p of a reused PID")
    with tempfile.TemporaryDirectory(prefix="tracer-reuse-") as tmp:
        ready = os.path.join(tmp, "ready")
        first = subprocess.Popen(["sleep", "30"])
        proc = start(tracer_argv("-j", "tfo", "-p", str(first.pid),
                                 "--ready-file", ready))
        reuser = None
        try:
            check(wait_file(ready, proc), "tracer never became ready")
            os.kill(proc.pid, signal.SIGSTOP)
            first.kill()
            if _held_by_ptrace(first):
                # tracer follows -p with ptrace: the exit goes to it first,
                # so the PID stays held (exit stop, then zombie), and cannot
                # be reused, until tracer has seen it.
                os.kill(proc.pid, signal.SIGCONT)
                out, err = finish(proc, rounds(10, 20))
                first.wait(timeout=10)
                eq(proc.returncode, 0, f"tracer -p exit status ({err})")
                note(f"PID {first.pid} held while tracer (ptrace) was "
                     "stopped: no reuse possible")
                return
            reuser = start([prog("pid_reuse"), str(first.pid), python(),
                            "-c", REUSER])
            line = reuser.stdout.readline()
            if not line.startswith("pid="):
                skip(f"clone3 with set_tid refused:"
                     f" {reuser.communicate()[1].strip()}")
            time.sleep(0.3)  # the second process sends
            os.kill(proc.pid, signal.SIGCONT)
            resumed = time.monotonic()
            out, err = finish(proc, 10)
            lag = time.monotonic() - resumed
            second_alive = reuser.poll() is None
        finally:
            kill_session(proc.pid)
            if reuser:
                kill_session(reuser.pid)
                reuser.communicate()
    eq(proc.returncode, 0, f"tracer -p exit status ({err})")
    # Teardown takes seconds under CPU emulation or a loaded host; a tracer
    # that took the second process for the first would run 60 s.
    check(lag < rounds(10, 20) and second_alive,
          f"tracer ended {lag:.2f} s after it was continued (PID"
          f" {first.pid}'s second process still running: {second_alive})")
    events, _ = split_output(out)
    eq(find(events, event="send"), [],
       "send events (the only sender was the PID's second process)")
    note(f"PID {first.pid} reused; tracer ended {lag:.2f} s after SIGCONT")


# ------------------------------------------------- the leader goes first

def _leader_gone(mode):
    need_root()
    res = run(in_netns(tracer_argv("-j", "tfo", "--",
                                   prog("tfo_thread_leader"), mode,
                                   str(CLOSED_PORT))), timeout=60)
    exit_code(res, 0)
    events = res.json()
    mine = [e for e in events if "event" not in e]
    check(len(mine) == 1, f"one line from tfo_thread_leader: {mine}", res)
    sends = find(events, event="send")
    eq(len(sends), mine[0]["sends"], "send events", res)
    eq({e["pid"] for e in sends}, {mine[0]["pid"]}, "pid of the sends", res)
    verdict = find_one(events, what="verdict", event="verdict", res=res)
    eq(verdict["sends"], mine[0]["sends"], "verdict's send count", res)


def test_tfo_leader_exits_first():
    """`tfo -- P` where P's first thread exits alone (SYS_exit) and another
    thread sends afterwards: the process is still traced (its end is its
    last thread's exit, not its leader's)."""
    _leader_gone("exit")


def test_tfo_exec_from_a_thread():
    """`tfo -- P` where a second thread execs a program that sends
    (de_thread() kills the old leader; the pid stays): every send seen."""
    _leader_gone("exec")
