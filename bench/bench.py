#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench: what tracer costs, measured side by side in one run.

Each comparison alternates its variants round by round (plain, traced,
plain, traced, ...), so that drift of the machine lands on both sides, and
reports min/median/max per variant and the ratio of medians to the baseline.
The table goes to stdout and to bench/RESULTS.md.

  1  a traced process: udp_loop under tracer, strace and bpftrace
  2  a process that is not traced, while tracer traces another one
  3  frames/s through a veth pair, with and without tracer pktleak --all
  4  startup (exec to --ready-file) and peak RSS, against bpftrace
  5  whole runs of the built-in investigations
  6  events/s through tracer's ring buffer, with the losses it reports

Every figure comes from the running kernel; nothing is simulated. Needs
root; strace and bpftrace rows are skipped, with the reason, when absent.
"""
import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRACER = os.path.join(ROOT, "tracer")
BENCH_BIN = os.path.join(ROOT, ".output", "bench")
UDP_LOOP = os.path.join(BENCH_BIN, "udp_loop")
VETH_RATE = os.path.join(BENCH_BIN, "veth_rate")
FLOOR = os.path.join(BENCH_BIN, "floor")
TRACEFS = "/sys/kernel/tracing"
RESULTS = os.path.join(ROOT, "bench", "RESULTS.md")

# The field report's one-liner: count sendto enter and exit of one process.
BPFTRACE_SENDTO = ("tracepoint:syscalls:sys_enter_sendto /pid == cpid/ "
                   "{ @enter = count(); } "
                   "tracepoint:syscalls:sys_exit_sendto /pid == cpid/ "
                   "{ @exit = count(); }")
BPFTRACE_READY = ("BEGIN { printf(\"ready\\n\"); } "
                  "tracepoint:syscalls:sys_enter_sendto { @enter = count(); } "
                  "tracepoint:syscalls:sys_exit_sendto { @exit = count(); }")

# tracer pktleak's configured waits with its defaults: 6 strategies, each
# with a 100 ms gap before bind, and strategy 6's 10 ms filter gap (see
# `tracer pktleak --help`).
PKTLEAK_GAPS_S = 6 * 0.100 + 0.010


class BenchError(Exception):
    pass


# ------------------------------------------------------------ processes

def peak_rss_kib(pid):
    """VmHWM: the peak RSS of @pid's current program. (wait4()'s ru_maxrss
    would also count the forked copy of this Python process before exec.)"""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise BenchError(f"no VmHWM for {pid}")


def wait_rusage(proc, timeout):
    """Reap @proc; its exit status."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode
        if time.monotonic() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            raise BenchError(f"{proc.args[0]} did not exit in {timeout} s")
        time.sleep(0.002)


def wait_for_file(path, proc, timeout):
    """Seconds until @path exists, polled every 0.2 ms."""
    start = time.monotonic()
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise BenchError(f"{' '.join(proc.args)} exited "
                             f"({proc.returncode}) before it was ready")
        if time.monotonic() - start > timeout:
            proc.kill()
            raise BenchError(f"{' '.join(proc.args)}: not ready "
                             f"in {timeout} s")
        time.sleep(0.0002)
    return time.monotonic() - start


class Background:
    """A tracer run until we stop it; live once its --ready-file exists."""

    def __init__(self, argv, tmp):
        self.ready = os.path.join(tmp, "ready")
        argv = [TRACER, *argv[:1], "--ready-file", self.ready, *argv[1:]]
        start = time.monotonic()
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.ready_s = wait_for_file(self.ready, self.proc, 30)
        self.ready_s = time.monotonic() - start

    def stop(self):
        """SIGTERM, which tracer passes on to its COMMAND (SIGINT would do
        as well, but a shell's background job inherits it ignored); (exit
        status, peak RSS in KiB)."""
        rss = peak_rss_kib(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        status = wait_rusage(self.proc, 30)
        err = self.proc.stderr.read().decode(errors="replace")
        self.proc.stderr.close()
        if os.path.exists(self.ready):
            raise BenchError("tracer left its --ready-file behind")
        return status, rss, err


class Floor:
    """bench/floor: empty BPF programs on @hooks, live once its
    --ready-file exists."""

    def __init__(self, hooks, tmp):
        self.ready = os.path.join(tmp, "floor-ready")
        self.proc = subprocess.Popen([FLOOR, "--ready-file", self.ready,
                                      *hooks], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        wait_for_file(self.ready, self.proc, 30)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        status = wait_rusage(self.proc, 30)
        err = self.proc.stderr.read().decode(errors="replace")
        self.proc.stderr.close()
        if status != 0:
            raise BenchError(f"floor: exit {status}: {err[-300:]}")


HOOKS = {}


def hooks_of(argv, tmp, settled=None):
    """The hooks tracer @argv attaches, read from the BPF links it holds
    while it runs (floor --list PID): the floor follows tracer's hook set.
    Read once its --ready-file exists, or once its COMMAND created the file
    @settled (tracer attaches the send-path hooks when a traced process gets
    its first socket)."""
    key = tuple(argv)
    if key in HOOKS:
        return HOOKS[key]
    bg = Background(argv, tmp)
    try:
        if settled:
            wait_for_file(settled, bg.proc, 30)
        res = subprocess.run([FLOOR, "--list", str(bg.proc.pid)],
                             capture_output=True, text=True, timeout=30)
    finally:
        bg.stop()
    if res.returncode != 0:
        raise BenchError(f"floor --list: {res.stderr[-300:]}")
    hooks = res.stdout.split()
    other = [h for h in hooks if h.startswith("other:")]
    if other:
        raise BenchError(f"tracer {' '.join(argv)}: links the floor cannot "
                         f"copy: {' '.join(other)}")
    HOOKS[key] = hooks
    return hooks


def hook_names(hooks):
    """sys_enter, sys_exit x2, ...: the tracepoints of @hooks, in order."""
    names = [h.split(":", 1)[1] for h in hooks]
    seen = []
    for n in names:
        if n not in seen:
            seen.append(n)
    return ", ".join(n if names.count(n) == 1 else f"{n} x{names.count(n)}"
                     for n in seen)


def with_floor(hooks, tmp, measure):
    """@measure() while empty programs sit on @hooks."""
    fl = Floor(hooks, tmp)
    try:
        return measure()
    finally:
        fl.stop()


def ensure_tracefs():
    """bpftrace's tracepoint:syscalls:* probes need tracefs, which a fresh
    machine does not mount; True if this run mounted it."""
    if os.path.isdir(os.path.join(TRACEFS, "events")):
        return False
    res = subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise BenchError(f"mount tracefs: {res.stderr.strip()}")
    return True


def udp_loop(prefix, calls, tmp, timeout=300):
    """Run udp_loop (under @prefix); its own timing, in ns per sendto()."""
    result = os.path.join(tmp, "loop.json")
    if os.path.exists(result):
        os.unlink(result)
    res = subprocess.run([*prefix, UDP_LOOP, str(calls), result],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         timeout=timeout)
    if res.returncode != 0 or not os.path.exists(result):
        raise BenchError(f"{' '.join(prefix) or 'udp_loop'}: exit "
                         f"{res.returncode}: {res.stderr.decode()[-300:]}")
    with open(result) as f:
        return json.load(f)["ns_per_call"]


# ------------------------------------------------------------ statistics

class Row:
    def __init__(self, section, name, unit, values, base=None, target=None,
                 better="lower", note=""):
        self.section, self.name, self.unit = section, name, unit
        self.values = values
        self.base = base
        self.target = target  # (ratio or absolute bound, text)
        self.better = better
        self.note = note
        self.absolute = False  # target bounds the median, not the ratio

    @property
    def median(self):
        return statistics.median(self.values)

    @property
    def ratio(self):
        return self.median / self.base.median if self.base else None

    def verdict(self):
        if not self.target:
            return ""
        if hasattr(self, "lost_max"):
            return "met" if self.lost_max <= self.target[0] else "MISSED"
        bound, _ = self.target
        value = self.median if self.absolute or not self.base else self.ratio
        ok = value <= bound if self.better == "lower" else value >= bound
        return "met" if ok else "MISSED"


def fmt(v):
    if v >= 100:
        return f"{v:,.0f}".replace(",", " ")
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def markdown_table(rows):
    out = ["| # | what | unit | runs | min | median | max | ratio | "
           "target | |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.values is None:
            out.append(f"| {r.section} | {r.name} | | | | | | | | "
                       f"skipped: {r.note} |")
            continue
        ratio = f"{r.ratio:.3f}x" if r.base else ""
        target = r.target[1] if r.target else ""
        out.append(f"| {r.section} | {r.name} | {r.unit} | {len(r.values)} "
                   f"| {fmt(min(r.values))} | {fmt(r.median)} "
                   f"| {fmt(max(r.values))} | {ratio} | {target} "
                   f"| {r.verdict()} |")
    return "\n".join(out)


# ------------------------------------------------------------ sections

def alternate(rounds, variants):
    """variants: name -> zero-arg function returning one value."""
    values = {name: [] for name in variants}
    for i in range(rounds):
        order = list(variants.items())
        if i % 2:  # alternate which variant goes first
            order.reverse()
        for name, measure in order:
            values[name].append(measure())
    return values


# A traced program with a socket, as udp_loop holds one while it loops.
SOCKET_HOLDER = ("import socket, sys, time; "
                 "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                 "open(sys.argv[1], 'w').close(); time.sleep(600)")


def traced_loop_hooks(tmp):
    """The hooks tracer holds while it traces udp_loop: those of a traced
    program that made its socket."""
    made = os.path.join(tmp, "socket-made")
    if os.path.exists(made):
        os.unlink(made)
    return hooks_of(["tfo", "--all", "--", sys.executable, "-c",
                     SOCKET_HOLDER, made], tmp, settled=made)


def section_traced(args, tmp):
    calls = args.calls
    strace_calls = max(calls // 50, 1000)
    hooks = traced_loop_hooks(tmp)
    out = os.path.join(tmp, "events.json")
    variants = {
        "plain": lambda: udp_loop([], calls, tmp),
        "floor": lambda: with_floor(
            hooks, tmp, lambda: udp_loop([], calls, tmp)),
        "tracer": lambda: udp_loop([TRACER, "tfo", "--all", "--"], calls,
                                   tmp),
        "tracer_json": lambda: udp_loop(
            [TRACER, "-j", "-o", out, "tfo", "--all", "--"], calls, tmp),
    }
    skipped = {}
    if shutil.which("strace"):
        variants["strace"] = lambda: udp_loop(
            ["strace", "-f", "-qq", "-e", "trace=sendto", "-o", os.devnull],
            strace_calls, tmp)
    else:
        skipped["strace"] = "strace not installed"
    if shutil.which("bpftrace"):
        variants["bpftrace"] = bpftrace_c(calls, tmp)
    else:
        skipped["bpftrace"] = "bpftrace not installed"
    v = alternate(args.rounds, variants)
    base = Row(1, f"udp_loop, {calls} sendto(), untraced", "ns/call",
               v["plain"])
    bpf_ratio = None
    if "bpftrace" in v:
        bpf_ratio = statistics.median(v["bpftrace"]) / base.median
    target = (bpf_ratio, f"<= bpftrace's {bpf_ratio:.3f}x") \
        if bpf_ratio else None
    rows = [base,
            Row(1, f"  floor: empty programs on tfo's {len(hooks)} hooks "
                f"({hook_names(hooks)})", "ns/call", v["floor"], base),
            Row(1, "  under `tracer tfo --all -- udp_loop`", "ns/call",
                v["tracer"], base, target),
            Row(1, "  under `tracer -j -o FILE tfo --all -- udp_loop`",
                "ns/call", v["tracer_json"], base, target)]
    for tool, label in (("strace", "  under `strace -f -e trace=sendto` "
                         f"({strace_calls} calls)"),
                        ("bpftrace", "  with the bpftrace one-liner "
                         "(sendto enter+exit counts)")):
        if tool in v:
            rows.append(Row(1, label, "ns/call", v[tool], base))
        else:
            rows.append(Row(1, label, "", None, note=skipped[tool]))
    return rows


def bpftrace_c(calls, tmp):
    """bpftrace -c takes one string: the command and its arguments."""
    result = os.path.join(tmp, "loop.json")

    def measure():
        if os.path.exists(result):
            os.unlink(result)
        res = subprocess.run(
            ["bpftrace", "-q", "-e", BPFTRACE_SENDTO, "-c",
             f"{UDP_LOOP} {calls} {result}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        if not os.path.exists(result):
            raise BenchError(f"bpftrace: exit {res.returncode}: "
                             f"{res.stderr.decode()[-300:]}")
        with open(result) as f:
            return json.load(f)["ns_per_call"]
    return measure


def with_background(argv, tmp, measure):
    """@measure() while tracer @argv runs in the background."""
    bg = Background(argv, tmp)
    try:
        return measure()
    finally:
        status, _, err = bg.stop()
        if status not in (0, 1, 143, -signal.SIGTERM):
            raise BenchError(f"tracer {' '.join(argv)}: exit {status}: "
                             f"{err[-300:]}")


def section_untraced(args, tmp):
    calls = args.calls
    loop = lambda: udp_loop([], calls, tmp)  # noqa: E731
    tfo_hooks = hooks_of(["tfo", "--all", "--", "sleep", "600"], tmp)
    pkt_hooks = hooks_of(["pktleak", "--all"], tmp)
    v = alternate(args.rounds, {
        "plain": loop,
        "floor_tfo": lambda: with_floor(tfo_hooks, tmp, loop),
        "floor_pktleak": lambda: with_floor(pkt_hooks, tmp, loop),
        "tfo": lambda: with_background(
            ["tfo", "--all", "--", "sleep", "600"], tmp, loop),
        "pktleak": lambda: with_background(
            ["pktleak", "--all"], tmp, loop),
    })
    base = Row(2, f"udp_loop, {calls} sendto(), no tracer", "ns/call",
               v["plain"])
    return [base,
            Row(2, f"  floor: empty programs on tfo's {len(tfo_hooks)} "
                f"hooks ({hook_names(tfo_hooks)})", "ns/call",
                v["floor_tfo"], base),
            Row(2, "  while `tracer tfo --all -- sleep 600` runs", "ns/call",
                v["tfo"], base, (1.10, "<= 1.10x")),
            Row(2, f"  floor: empty programs on pktleak's {len(pkt_hooks)} "
                f"hooks ({hook_names(pkt_hooks)})", "ns/call",
                v["floor_pktleak"], base),
            Row(2, "  while `tracer pktleak --all` runs", "ns/call",
                v["pktleak"], base)]


def veth_rate(seconds):
    res = subprocess.run([VETH_RATE, "-d", str(seconds)],
                         capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        raise BenchError(f"veth_rate: exit {res.returncode}: "
                         f"{res.stderr[-300:]}")
    return json.loads(res.stdout)["frames_per_s"] / 1000.0


def section_veth(args, tmp):
    seconds = args.veth_seconds
    measure = lambda: veth_rate(seconds)  # noqa: E731
    hooks = hooks_of(["pktleak", "--all"], tmp)
    v = alternate(args.rounds, {
        "plain": measure,
        "floor": lambda: with_floor(hooks, tmp, measure),
        "pktleak": lambda: with_background(["pktleak", "--all"], tmp,
                                           measure),
    })
    base = Row(3, "veth pair in a private netns, frames received",
               "kframes/s", v["plain"], better="higher")
    floor = Row(3, f"  floor: empty programs on pktleak's {len(hooks)} "
                "hooks", "kframes/s", v["floor"], base, better="higher")
    # target 1: >= 0.87x, and within 2 % of the floor
    bound = max(0.87, floor.ratio * 0.98)
    return [base, floor,
            Row(3, "  while `tracer pktleak --all` runs", "kframes/s",
                v["pktleak"], base, (bound, f">= {bound:.3f}x (0.87x, "
                                     "floor - 2 %)"), better="higher")]


def tracer_startup(argv, tmp):
    bg = Background(argv, tmp)
    status, rss, err = bg.stop()
    if status not in (0, 1, 143, -signal.SIGTERM):
        raise BenchError(f"tracer {' '.join(argv)}: exit {status}: "
                         f"{err[-300:]}")
    return bg.ready_s * 1000.0, rss / 1024.0


def bpftrace_startup():
    """Exec to the BEGIN probe's output (bpftrace runs BEGIN once every
    probe is attached); peak RSS once stopped with SIGINT."""
    start = time.monotonic()
    proc = subprocess.Popen(["bpftrace", "-B", "line", "-e", BPFTRACE_READY],
                            stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    for line in proc.stdout:
        if line.strip() == b"ready":
            break
    else:
        raise BenchError("bpftrace exited before BEGIN ran")
    ready = time.monotonic() - start
    rss = peak_rss_kib(proc.pid)
    # SIGTERM: a shell's background job inherits SIGINT ignored, and
    # bpftrace keeps it so.
    proc.send_signal(signal.SIGTERM)
    proc.stdout.close()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return ready * 1000.0, rss / 1024.0


def section_startup(args, tmp):
    runs = {
        "tfo": lambda: tracer_startup(["tfo", "--all", "--", "sleep", "600"],
                                      tmp),
        "pktleak": lambda: tracer_startup(["pktleak", "--all"], tmp),
    }
    if shutil.which("bpftrace"):
        runs["bpftrace"] = bpftrace_startup
    v = alternate(args.startup_rounds, runs)
    rows = []
    labels = {
        "tfo": "`tracer tfo --all -- CMD`",
        "pktleak": "`tracer pktleak --all`",
        "bpftrace": "bpftrace, sendto enter+exit counts",
    }
    base_ms = base_rss = None
    if "bpftrace" in v:
        base_ms = Row(4, f"{labels['bpftrace']}: exec to BEGIN", "ms",
                      [ms for ms, _ in v["bpftrace"]])
        base_rss = Row(4, f"{labels['bpftrace']}: peak RSS", "MiB",
                       [rss for _, rss in v["bpftrace"]])
    for name in ("tfo", "pktleak"):
        bound = base_ms.median if base_ms else 50.0
        rows.append(Row(4, f"{labels[name]}: exec to --ready-file", "ms",
                        [ms for ms, _ in v[name]], base_ms,
                        (bound, f"median <= {'bpftrace' if base_ms else ''}"
                         f" {bound:.1f} ms")))
        rows.append(Row(4, f"{labels[name]}: peak RSS", "MiB",
                        [rss for _, rss in v[name]], base_rss,
                        (16.0, "<= 16 MiB")))
    for r in rows:  # targets are absolute; ratios are to bpftrace
        r.absolute = True
    if base_ms:
        rows = [base_ms, base_rss] + rows
    else:
        rows.append(Row(4, labels["bpftrace"], "", None,
                        note="bpftrace not installed"))
    return rows


def wall(argv):
    start = time.monotonic()
    res = subprocess.run([TRACER, *argv], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, timeout=120)
    if res.returncode != 0:
        raise BenchError(f"tracer {' '.join(argv)}: exit {res.returncode}: "
                         f"{res.stderr.decode()[-300:]}")
    return time.monotonic() - start


def section_whole(args, tmp):
    v = alternate(args.whole_rounds, {
        "tfo": lambda: wall(["tfo"]),
        "pktleak": lambda: wall(["pktleak"]) - PKTLEAK_GAPS_S,
    })
    return [Row(5, "`tracer tfo` (16 cases, private netns)", "s", v["tfo"]),
            Row(5, "`tracer pktleak` minus its 6 x 100 ms gaps and 10 ms filter gap", "s",
                v["pktleak"])]


def count_events(argv, timeout=300):
    """Run `tracer -j` and count its send events; (events, lost, seconds)."""
    start = time.monotonic()
    proc = subprocess.Popen([TRACER, "-j", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    events, lost, tail = 0, None, b""
    while True:
        chunk = proc.stdout.read(1 << 20)
        if not chunk:
            break
        events += (tail + chunk).count(b'{"event":"send"')
        tail = chunk[-16:]
        last = chunk
    proc.wait(timeout)
    elapsed = time.monotonic() - start
    for line in last.splitlines()[::-1]:
        if b'"event":"verdict"' in line:
            lost = json.loads(line)["lost_events"]
            break
    if proc.returncode != 0 or lost is None:
        raise BenchError(f"tracer {' '.join(argv)}: exit {proc.returncode},"
                         " no verdict with lost_events")
    return events, lost, elapsed


def section_throughput(args, tmp):
    calls = args.calls
    rows = []
    for loops in (1, 2):
        results = os.path.join(tmp, "t")
        script = " & ".join(f"{UDP_LOOP} {calls} {results}{i}"
                            for i in range(loops)) + "; wait"
        rates, losses, delivered = [], [], []
        for _ in range(args.throughput_rounds):
            events, lost, _ = count_events(["tfo", "--all", "--", "sh", "-c",
                                            script])
            loop_s = max(json.load(open(f"{results}{i}"))["ns"]
                         for i in range(loops)) / 1e9
            sent = calls * loops
            rates.append(events / loop_s / 1000.0)
            losses.append(lost)
            delivered.append(events)
            if events + lost < sent:
                raise BenchError(f"{sent - events - lost} sends neither "
                                 "delivered nor counted as lost")
        rows.append(Row(6, f"`tracer -j tfo --all`, {loops} x udp_loop "
                        f"({calls * loops} sends): events delivered",
                        "kevents/s", rates,
                        target=(0, "0 lost") if loops == 1 else None,
                        note=f"lost (reported by tracer): "
                        f"{', '.join(map(str, losses))}"))
        rows[-1].losses = losses
        rows[-1].lost_max = max(losses)
    return rows


SECTIONS = {
    "traced": section_traced,
    "untraced": section_untraced,
    "veth": section_veth,
    "startup": section_startup,
    "whole": section_whole,
    "throughput": section_throughput,
}


# ------------------------------------------------------------ report

def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    backend = subprocess.run([TRACER, "probe"], capture_output=True,
                             text=True).stdout
    chosen = [line for line in backend.splitlines() if "auto" in line]
    return (f"Linux {platform.release()}, {os.cpu_count()} x {cpu}; "
            f"tracer backend: {chosen[0].strip() if chosen else '?'}")


def tool_version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True).stdout
        return out.splitlines()[0].strip() if out else "?"
    except OSError:
        return "not installed"


def write_results(rows, elapsed, args):
    notes = [r for r in rows if r.values is not None and r.note]
    lines = [
        "# tracer benchmarks",
        "",
        f"Written by `make bench` ({elapsed:.0f} s). {machine()}.",
        f"{tool_version(['strace', '-V'])}; "
        f"{tool_version(['bpftrace', '--version'])}.",
        "",
        "Variants of one comparison alternate round by round; `ratio` is "
        "the median over the baseline's median (the row above it in its "
        "section). udp_loop times its own loop, so tracer start and exit "
        "are not in rows 1-2.",
        "",
        markdown_table(rows),
        "",
    ]
    for r in notes:
        lines.append(f"- {r.name.strip()}: {r.note}")
    with open(RESULTS, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--startup-rounds", type=int, default=10)
    ap.add_argument("--whole-rounds", type=int, default=3)
    ap.add_argument("--throughput-rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=300000)
    ap.add_argument("--veth-seconds", type=float, default=1.0)
    ap.add_argument("--only", choices=sorted(SECTIONS), action="append",
                    help="run only these sections (repeatable)")
    ap.add_argument("--no-write", action="store_true",
                    help="do not write bench/RESULTS.md")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench: needs root (BPF, namespaces)", file=sys.stderr)
        return 2
    for path in (TRACER, UDP_LOOP, VETH_RATE, FLOOR):
        if not os.access(path, os.X_OK):
            print(f"bench: {path} missing: run `make bench`", file=sys.stderr)
            return 2
    start = time.monotonic()
    rows = []
    try:
        mounted = ensure_tracefs()
    except BenchError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    if mounted:
        print(f"bench: mounted tracefs on {TRACEFS} (for bpftrace)")
    with tempfile.TemporaryDirectory(prefix="tracer-bench-") as tmp:
        for name, section in SECTIONS.items():
            if args.only and name not in args.only:
                continue
            t = time.monotonic()
            try:
                got = section(args, tmp)
            except (BenchError, subprocess.TimeoutExpired) as e:
                print(f"bench: {name}: {e}", file=sys.stderr)
                return 1
            rows += got
            print(f"## {name} ({time.monotonic() - t:.0f} s)\n"
                  f"{markdown_table(got)}\n", flush=True)
    elapsed = time.monotonic() - start
    if not args.no_write:
        write_results(rows, elapsed, args)
        print(f"bench: wrote {os.path.relpath(RESULTS, ROOT)} "
              f"({elapsed:.0f} s)")
    missed = [r for r in rows if r.verdict() == "MISSED"]
    for r in missed:
        print(f"bench: target missed: {r.name.strip()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
