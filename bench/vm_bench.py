#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""`make bench-vm`: what the fentry backend saves an untraced process, in a
kernel-matrix guest (fentry is refused on the build machine).

    vm_bench.py run [ROUNDS [CALLS]]   in the guest (tests/vm/init.sh, with
                                      vmtest.bench=1): prints ===VMBENCH lines
    vm_bench.py report LOG OUT         on the host: the table from a guest's
                                      console LOG into OUT (markdown)

Two workloads, each timed around its own loop: bench/getpid_loop (CALLS
getpid() syscalls: what an untraced process's other syscalls pay) and
bench/udp_loop (CALLS/4 sendto() of a UDP datagram to 127.0.0.1: what its
sends pay), run untraced and while `tracer tfo --all --backend B` traces
another process, for B = fentry and tracepoint, that process either only
sleeping or holding a socket (so the send-path hooks are attached: see
README, "Send-path hooks only once a traced process holds a socket").
Each variant is timed once tracer's start is over (settle()). Variants
alternate round by round. Each tracer run's links are read from
its fdinfo and `bpftool link` (tests/lib.py's bpf_links()), so the table
says which hooks were attached. The guest is QEMU TCG (software
emulation): absolute times mean nothing, only ratios measured in the same
guest do.
"""
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from lib import bpf_links  # noqa: E402
TRACER = os.path.join(ROOT, "tracer")
BENCH = os.path.join(ROOT, ".output", "bench")
MARK = "===VMBENCH "
WORKLOADS = ("getpid", "udp")
# (backend, the traced process holds a socket)
TRACED = {
    "fentry": ("fentry", False),
    "fentry_socket": ("fentry", True),
    "tracepoint": ("tracepoint", False),
    "tracepoint_socket": ("tracepoint", True),
}
VARIANTS = ("untraced", *TRACED)
# makes a socket (the send-path hooks are attached before socket() returns),
# says so by creating argv[1], and sleeps
HOLD_SOCKET = ("import socket, sys, time\n"
               "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
               "open(sys.argv[1], 'w').close()\n"
               "time.sleep(600)\n")


def emit(kind, **fields):
    print(MARK + json.dumps({"kind": kind, **fields}), flush=True)


def loop_ns(workload, calls):
    """ns per call of one run of the workload's loop."""
    argv = ([os.path.join(BENCH, "getpid_loop"), str(calls)]
            if workload == "getpid" else
            [os.path.join(BENCH, "udp_loop"), str(calls // 4)])
    out = subprocess.run(argv, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)["ns_per_call"]


def measure(calls):
    return {w: loop_ns(w, calls) for w in WORKLOADS}


def cpu_ticks(pid):
    """utime + stime of process @pid, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def settle(pid, quiet=3, seconds=60):
    """Wait until process @pid uses no CPU for @quiet samples 0.1 s apart:
    tracer's start is over. (In the guests' build, tracer faults all its
    pages in after each fork() it makes, see tcg_guest_prefault(): under
    emulation that takes up to seconds after --ready-file, and would be
    timed with the loop.)"""
    deadline = time.monotonic() + seconds
    last, still = cpu_ticks(pid), 0
    while still < quiet and time.monotonic() < deadline:
        time.sleep(0.1)
        now = cpu_ticks(pid)
        still = still + 1 if now == last else 0
        last = now


def wait_for(path, proc, what):
    deadline = time.monotonic() + 120
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what}: {path} never appeared: "
                               f"{proc.stderr.read()[-300:]}")
        time.sleep(0.05)


def tracer_links(pid):
    """'raw_tracepoint sys_enter', 'tracing trace_fentry', ... per link."""
    return sorted(f"{lk.get('type')} "
                  f"{lk.get('tp_name') or lk.get('attach_type') or ''}"
                  for lk in bpf_links(pid))


def with_tracer(variant, calls, tmp, want_links):
    backend, socket = TRACED[variant]
    ready = os.path.join(tmp, "ready")
    held = os.path.join(tmp, "socket")
    for path in (ready, held):
        if os.path.exists(path):
            os.unlink(path)
    traced = (["python3", "-c", HOLD_SOCKET, held] if socket else
              ["sleep", "600"])
    proc = subprocess.Popen([TRACER, "tfo", "--all", "--backend", backend,
                             "--ready-file", ready, "--", *traced],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for(ready, proc, f"tracer --backend {backend}")
        if socket:
            wait_for(held, proc, "the traced program's socket")
        settle(proc.pid)
        links = tracer_links(proc.pid) if want_links else None
        return measure(calls), links
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(rounds, calls):
    emit("start", kernel=os.uname().release, rounds=rounds, calls=calls)
    measure(calls)  # warm up (page cache, TCG translation)
    seen_links = set()
    n = len(VARIANTS)
    with tempfile.TemporaryDirectory(prefix="vm-bench-") as tmp:
        for r in range(rounds):
            for v in VARIANTS[r % n:] + VARIANTS[:r % n]:
                if v == "untraced":
                    emit("time", variant=v, ns=measure(calls))
                    continue
                ns, links = with_tracer(v, calls, tmp, v not in seen_links)
                emit("time", variant=v, ns=ns)
                if links is not None:
                    seen_links.add(v)
                    emit("links", variant=v, links=links)
    emit("done")


def summarize(links):
    counts = {}
    for lk in links:
        counts[lk] = counts.get(lk, 0) + 1
    return ", ".join(f"{k} x{n}" if n > 1 else k
                     for k, n in sorted(counts.items()))


def fmt(x):
    return f"{x:,.0f}".replace(",", " ")


def report(log, out):
    recs = []
    with open(log, errors="replace") as f:
        for line in f:
            i = line.find(MARK)
            if i >= 0:
                recs.append(json.loads(line[i + len(MARK):]))
    start = next((r for r in recs if r["kind"] == "start"), None)
    if not start or not any(r["kind"] == "done" for r in recs):
        sys.exit(f"vm_bench: {log}: no complete benchmark run in the log")
    times = {(w, v): [r["ns"][w] for r in recs if r["kind"] == "time"
                      and r["variant"] == v]
             for w in WORKLOADS for v in VARIANTS}
    links = {r["variant"]: r["links"] for r in recs if r["kind"] == "links"}
    workload = {
        "getpid": f"getpid() loop ({start['calls']} calls)",
        "udp": f"UDP sendto() loop ({start['calls'] // 4} calls)",
    }
    traced = {
        False: "sleep 600",
        True: "a program holding a socket",
    }
    lines = [
        "# tracer benchmarks in a kernel-matrix guest",
        "",
        f"Written by `make bench-vm`: Linux {start['kernel']} in QEMU "
        "**TCG (software emulation, -cpu max, 1 vCPU): measured under "
        "emulation**; only the ratios, taken in the same guest run, mean "
        "something, and only roughly for real hardware (hooks cost "
        "differently when every instruction is emulated).",
        "",
        "Each loop is timed around itself (bench/getpid_loop, "
        "bench/udp_loop). getpid() is no syscall tracer follows: its figure "
        "is what an untraced process's other syscalls pay; the UDP loop's is "
        "what its sends pay. Both run untraced and while `tracer tfo --all "
        "--backend B -- CMD` traces another process, CMD sleeping or holding "
        "a socket (the send-path hooks are attached then), timed once "
        "tracer has used no CPU for 0.3 s (its start is over: the guests' "
        "build faults its pages in after each fork, see "
        "tcg_guest_prefault()). Variants "
        f"alternate over {start['rounds']} rounds; `ratio` is the median over "
        "the untraced median of the same loop.",
        "",
        "| loop | while | unit | runs | min | median | max | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for w in WORKLOADS:
        base = statistics.median(times[(w, "untraced")])
        for v in VARIANTS:
            t = times[(w, v)]
            med = statistics.median(t)
            if v == "untraced":
                who, ratio = "no tracer", ""
            else:
                backend, socket = TRACED[v]
                who = (f"`tracer tfo --all --backend {backend}` traces "
                       f"{traced[socket]}")
                ratio = f"{med / base:.3f}x"
            lines.append(f"| {workload[w]} | {who} | ns/call | {len(t)} | "
                         f"{fmt(min(t))} | {fmt(med)} | {fmt(max(t))} | "
                         f"{ratio} |")
    lines.append("")
    lines.append("The tracer's links in each variant (from its fdinfo and "
                 "`bpftool link`):")
    lines.append("")
    for v in TRACED:
        lines.append(f"- {v}: {summarize(links.get(v, []))}")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "run":
        rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
        calls = int(sys.argv[3]) if len(sys.argv) > 3 else 200000
        run(rounds, calls)
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3])
        return 0
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
