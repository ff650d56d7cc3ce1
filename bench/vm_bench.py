#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""`make bench-vm`: what the fentry backend saves an untraced process, in a
kernel-matrix guest (fentry is refused on the build machine).

    vm_bench.py run [ROUNDS [CALLS]]   in the guest (tests/vm/init.sh, with
                                      vmtest.bench=1): prints ===VMBENCH lines
    vm_bench.py report LOG OUT         on the host: the table from a guest's
                                      console LOG into OUT (markdown)

The workload is bench/getpid_loop (CALLS getpid() syscalls, timed around the
loop), run untraced, and while `tracer tfo --all --backend B -- sleep 600`
traces another process, for B = fentry and tracepoint. Variants alternate
round by round. Each tracer run's links are read from its fdinfo and
`bpftool link` (as tests/test_syscall_layer.py does), so the table says which
hooks were attached. The guest is QEMU TCG (software emulation): absolute
times mean nothing, only ratios measured in the same guest do.
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
LOOP = os.path.join(ROOT, ".output", "bench", "getpid_loop")
MARK = "===VMBENCH "
VARIANTS = ("untraced", "fentry", "tracepoint")


def emit(kind, **fields):
    print(MARK + json.dumps({"kind": kind, **fields}), flush=True)


def getpid_ns(calls):
    out = subprocess.run([LOOP, str(calls)], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)["ns_per_call"]


def tracer_links(pid):
    """'raw_tracepoint sys_enter', 'tracing trace_fentry', ... per link."""
    return sorted(f"{lk.get('type')} "
                  f"{lk.get('tp_name') or lk.get('attach_type') or ''}"
                  for lk in bpf_links(pid))


def with_tracer(backend, calls, tmp, want_links):
    ready = os.path.join(tmp, "ready")
    proc = subprocess.Popen([TRACER, "tfo", "--all", "--backend", backend,
                             "--ready-file", ready, "--", "sleep", "600"],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not os.path.exists(ready):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"tracer --backend {backend} not ready: "
                                   f"{proc.stderr.read()[-300:]}")
            time.sleep(0.05)
        links = tracer_links(proc.pid) if want_links else None
        return getpid_ns(calls), links
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(rounds, calls):
    emit("start", kernel=os.uname().release, rounds=rounds, calls=calls)
    getpid_ns(calls)  # warm up (page cache, TCG translation)
    seen_links = set()
    with tempfile.TemporaryDirectory(prefix="vm-bench-") as tmp:
        for r in range(rounds):
            order = VARIANTS[r % 3:] + VARIANTS[:r % 3]
            for v in order:
                if v == "untraced":
                    emit("time", variant=v, ns=getpid_ns(calls))
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
    times = {v: [r["ns"] for r in recs if r["kind"] == "time"
                 and r["variant"] == v] for v in VARIANTS}
    links = {r["variant"]: r["links"] for r in recs if r["kind"] == "links"}
    base = statistics.median(times["untraced"])
    what = {
        "untraced": "getpid() loop, no tracer",
        "fentry": "while `tracer tfo --all --backend fentry -- sleep 600` "
                  "runs",
        "tracepoint": "while `tracer tfo --all --backend tracepoint -- "
                      "sleep 600` runs",
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
        f"bench/getpid_loop: {start['calls']} getpid() syscalls timed around "
        "the loop; getpid() is no syscall tracer follows, so the figure is "
        "what an untraced process's other syscalls pay. Variants alternate "
        f"over {start['rounds']} rounds; `ratio` is the median over the "
        "untraced median.",
        "",
        "| what | unit | runs | min | median | max | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for v in VARIANTS:
        t = times[v]
        med = statistics.median(t)
        ratio = "" if v == "untraced" else f"{med / base:.3f}x"
        lines.append(f"| {what[v]} | ns/call | {len(t)} | {fmt(min(t))} | "
                     f"{fmt(med)} | {fmt(max(t))} | {ratio} |")
    lines.append("")
    lines.append("The tracer's links in each variant (from its fdinfo and "
                 "`bpftool link`):")
    lines.append("")
    for v in ("fentry", "tracepoint"):
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
