#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check the kernel-matrix guests' console logs and write the results table.

    report.py [--write] [--root DIR] GUEST_DIR...

Each GUEST_DIR is what tests/vm/vmtest.sh left for one kernel: console.log
(the serial console, markers written by tests/vm/init.sh) and qemu (QEMU's
exit status and seconds). Prints one line per kernel and backend, every
FAIL line, and every problem found; exits 1 if there is one:

- a suite run that failed (exit status not 0) or never ended (timeout,
  crash), or a kernel that ran no suite at all;
- the guest not reaching its end marker, or QEMU killed by the timeout;
- the kernel log (the console, and dmesg at the end) showing an oops, BUG,
  WARNING, panic, stall or lockup; the console showing a verifier failure.

With --write, also writes DIR/tests/vm/RESULTS.md and replaces the
generated part of DIR/README.md's "Kernel matrix" section (between the
`<!-- vmtest -->` and `<!-- /vmtest -->` lines) with the same table. The
table holds nothing that changes from run to run unless the results do:
the files only change when the results or the kernels change.
"""
import argparse
import json
import os
import re
import sys

MARK = "===VMTEST "
STATUS = re.compile(r"^(PASS|FAIL|SKIP) (\S+?)(?:: (.*))?$")
NOTE = re.compile(r"^  # (.*)$")
# Kernel log lines that mean the kernel went wrong. Case matters: "report a
# bug" in a harmless PCI message must not count.
KERNEL_BAD = re.compile(
    r"\bBUG[: ]|WARNING:|\bOops\b|Kernel panic|general protection fault|"
    r"Call Trace:|UBSAN:|KASAN:|\bstall(s|ed)?\b|soft lockup|hard LOCKUP|"
    r"blocked for more than|\bsegfault at\b|\btraps: ")
# A BPF program the verifier refused, as libbpf prints it.
VERIFIER_BAD = re.compile(
    r"BEGIN PROG LOAD LOG|BPF program load failed|verifier", re.I)
CASE2 = "test_tfo.test_case_sendmsg_noaddr"
AGREE = "test_pktleak.test_bpf_and_reader_agree"
BEGIN, END = "<!-- vmtest -->", "<!-- /vmtest -->"


class Run:
    """One tests/run.py run in a guest."""

    def __init__(self, backend):
        self.backend = backend
        self.rc = None          # None: no end marker
        self.seconds = None
        self.tests = {}         # name -> (status, reason, notes)
        self.summary = None

    def count(self, status):
        return sum(1 for s, _, _ in self.tests.values() if s == status)


class Guest:
    def __init__(self, path):
        self.path = path
        self.release = "?"
        self.probe = {}
        self.backends = None
        self.runs = []
        self.done = False
        self.dmesg = []
        self.problems = []
        self.qemu_rc, self.qemu_seconds = None, None


def parse(path):
    g = Guest(path)
    try:
        with open(os.path.join(path, "qemu")) as f:
            rc, secs = f.read().split()
            g.qemu_rc, g.qemu_seconds = int(rc), int(secs)
    except (OSError, ValueError):
        pass
    try:
        with open(os.path.join(path, "console.log"), errors="replace") as f:
            lines = f.read().replace("\r", "").splitlines()
    except OSError as e:
        g.problems.append(f"no console log: {e}")
        return g
    run, notes, in_dmesg = None, [], False
    for line in lines:
        at = line.find(MARK)
        if at >= 0:  # a kernel message may precede the marker on its line
            word, _, rest = line[at + len(MARK):].partition(" ")
            if word == "kernel":
                g.release = rest.strip()
            elif word == "probe":
                try:
                    g.probe = json.loads(rest)
                except ValueError:
                    g.problems.append(f"tracer -j probe printed {rest!r}")
            elif word == "backends":
                g.backends = rest.split()
            elif word == "begin":
                run, notes = Run(rest.strip()), []
                g.runs.append(run)
            elif word == "end" and run:
                m = re.search(r"rc=(\d+) seconds=(\d+)", rest)
                if m:
                    run.rc, run.seconds = int(m.group(1)), int(m.group(2))
                run = None
            elif word == "dmesg":
                in_dmesg = rest.strip() == "begin"
            elif word == "done":
                g.done = True
            elif word == "note":
                g.problems.append(rest.strip())
            continue
        if in_dmesg:
            g.dmesg.append(line)
            continue
        if KERNEL_BAD.search(line) and re.search(r"\[\s*\d+\.\d+\]", line):
            g.problems.append(f"kernel: {line.strip()}")
        if VERIFIER_BAD.search(line):
            g.problems.append(f"verifier: {line.strip()}")
        if not run:
            continue
        m = STATUS.match(line)
        n = NOTE.match(line)
        if m:
            run.tests[m.group(2)] = (m.group(1), m.group(3) or "", notes)
            notes = []
        elif n:
            notes.append(n.group(1))
        elif re.match(r"^\d+ passed, \d+ failed", line):
            run.summary = line.strip()
    for line in g.dmesg:
        if KERNEL_BAD.search(line):
            g.problems.append(f"dmesg: {line.strip()}")
    check(g)
    return g


def check(g):
    if g.qemu_rc in (124, 137):
        g.problems.append(f"timed out after {g.qemu_seconds} s")
    if not g.done:
        g.problems.append("the guest never reached its end marker")
    if g.backends == []:
        g.problems.append("no backend to test (tracer -j probe: "
                          f"{json.dumps(g.probe.get('features'))})")
    for r in g.runs:
        if r.rc is None:
            g.problems.append(f"{r.backend}: the suite never finished")
        elif r.rc != 0:
            g.problems.append(f"{r.backend}: the suite exited {r.rc}")
        if not r.tests:
            g.problems.append(f"{r.backend}: no test ran")
    if g.backends and [r.backend for r in g.runs] != g.backends:
        g.problems.append(f"ran {[r.backend for r in g.runs]}, expected "
                          f"{g.backends}")


def case2(run):
    """What the tfo case-2 test verified: the origin of sendmsg_noaddr."""
    status, reason, notes = run.tests.get(CASE2, ("not run", "", []))
    if status != "PASS":
        return f"{status}{': ' + reason if reason else ''}"
    # "fentry: origin tcp_v4_connect (function layer): addr_len 0 < ..."
    for n in notes:
        m = re.match(r"^\S+: origin (\S+) \((\w+) layer\)(?:: (.*))?$", n)
        if m:
            fn = "none" if m.group(1) == "-" else f"`{m.group(1)}`"
            return f"{fn} ({m.group(2)} layer)"
    return "PASS"


def agree(run):
    """What the pktleak test verified: leaked_read == reader_leaked."""
    status, reason, notes = run.tests.get(AGREE, ("not run", "", []))
    if status == "SKIP":
        return "skipped (below)"
    if status != "PASS":
        return f"{status}{': ' + reason if reason else ''}"
    # "leaked_read == reader_leaked: 197, 0, 0, 0, 201, 190 (strategies 1-6)"
    for n in notes:
        m = re.search(r"\(strategies 1-(\d+)\)$", n)
        if m:
            return f"equal for all {m.group(1)} strategies"
    return "equal (strategy count not noted)"


def short(release):
    return release.replace("-cloud-amd64", "")


def table(guests):
    rows = ["| kernel | backend | passed | failed | skipped | tfo case 2 "
            "(`sendmsg_noaddr`, EINVAL) origin | pktleak `leaked_read` == "
            "`reader_leaked` |",
            "|---|---|---|---|---|---|---|"]
    for g in guests:
        if not g.runs:
            rows.append(f"| {short(g.release)} | (none) | | | | "
                        f"{'; '.join(g.problems)} | |")
        for r in g.runs:
            counts = (r.count("PASS"), r.count("FAIL"), r.count("SKIP"))
            if r.rc is None:
                counts = (f"{counts[0]} (unfinished)", *counts[1:])
            rows.append(f"| {short(g.release)} | {r.backend} | "
                        + " | ".join(str(c) for c in counts)
                        + f" | {case2(r)} | {agree(r)} |")
    return "\n".join(rows)


def skips(guests, names):
    """Skipped tests, one line per reason and the runs it held in: where,
    how many tests (and with names, which), why."""
    runs = [(g, r) for g in guests for r in g.runs]
    tests = {}
    for g, r in runs:
        for name, (status, reason, _) in r.tests.items():
            if status == "SKIP":
                tests.setdefault(name, {})[f"{short(g.release)} {r.backend}"] \
                    = reason
    by = {}  # (reason, where) -> test names
    for name, where in tests.items():
        for reason in sorted(set(where.values())):
            runs_with = tuple(w for w, why in where.items() if why == reason)
            by.setdefault((reason, runs_with), []).append(name)
    lines = []
    for (reason, where), found in sorted(by.items(), key=lambda x: x[1]):
        which = (", ".join(f"`{n}`" for n in sorted(found))
                 if names or len(found) < 3 else f"{len(found)} tests")
        lines.append(f"- {places(guests, where)}: {which}: {reason}")
    return "\n".join(lines)


def places(guests, where):
    """The runs in where, shortened: "every run", "KERNEL (every backend)"."""
    if len(where) == sum(len(g.runs) for g in guests):
        return "every run"
    out = []
    for g in guests:
        mine = [f"{short(g.release)} {r.backend}" for r in g.runs]
        have = [w for w in mine if w in where]
        if have and len(have) == len(mine):
            out.append(f"{short(g.release)} (every backend)")
        else:
            out.extend(have)
    return ", ".join(out)


def failures(guests):
    """Failed tests and problems: one line each."""
    lines = []
    for g in guests:
        for r in g.runs:
            for name, (status, reason, _) in r.tests.items():
                if status == "FAIL":
                    lines.append(f"- {short(g.release)} {r.backend}: "
                                 f"`{name}`: {reason}")
    for g in guests:
        for p in g.problems:
            if not re.search(r"the suite exited \d+$", p):
                lines.append(f"- {short(g.release)}: {p}")
    return "\n".join(lines)


def markdown(guests, names):
    ok = not any(g.problems for g in guests)
    failed = failures(guests)
    return "\n".join([
        "Each kernel is Debian 12's newest cloud kernel of its series, "
        "booted in QEMU (TCG); `tests/run.py` ran once per backend the "
        "kernel allows, with `TRACER_TEST_BACKEND` set "
        f"({'all passed' if ok else 'FAILED'}).",
        "",
        table(guests),
        "",
        *(["Failed:", "", failed, ""] if failed else []),
        "Skipped there, and why:",
        "",
        skips(guests, names) or "- nothing",
    ])


def write(root, guests):
    with open(os.path.join(root, "tests", "vm", "RESULTS.md"), "w") as f:
        f.write("# Kernel matrix\n\n"
                "Generated by `make vmtest` (tests/vm/report.py) from its "
                "last full run; do not edit.\n\n" + markdown(guests, True)
                + "\n")
    body = markdown(guests, False)
    readme = os.path.join(root, "README.md")
    with open(readme) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit(f"report.py: {readme} lacks the {BEGIN} ... {END} lines")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    with open(readme, "w") as f:
        f.write(f"{head}{BEGIN}\n{body}\n{END}{tail}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__)))))
    ap.add_argument("guests", nargs="+")
    args = ap.parse_args()
    guests = [parse(p) for p in args.guests]
    print()
    print(f"{'kernel':34} {'backend':11} {'passed':>6} {'failed':>6} "
          f"{'skipped':>7} {'time':>6}")
    for g in guests:
        for r in g.runs:
            secs = f"{r.seconds}s" if r.seconds is not None else "-"
            print(f"{g.release:34} {r.backend:11} {r.count('PASS'):6} "
                  f"{r.count('FAIL'):6} {r.count('SKIP'):7} {secs:>6}"
                  + ("" if r.rc == 0 else "  <- FAILED"))
            for name, (status, reason, _) in r.tests.items():
                if status == "FAIL":
                    print(f"  FAIL {name}: {reason}")
        if g.qemu_seconds is not None:
            print(f"{g.release:34} (guest: {g.qemu_seconds}s, qemu exit "
                  f"{g.qemu_rc})")
    problems = [f"{g.release} ({g.path}): {p}"
                for g in guests for p in g.problems]
    for p in problems:
        print(f"PROBLEM {p}")
    if args.write:
        write(args.root, guests)
        print("wrote tests/vm/RESULTS.md and README.md (Kernel matrix)")
    print("vmtest:", "FAIL" if problems else "PASS")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
