# SPDX-License-Identifier: GPL-2.0
"""`tracer pktleak`: the built-in experiment, watch mode, bad input, cleanup.

JSON contract: a "setup" event, one "strategy" event per strategy and run,
"strategy_summary" events with --repeat, a "recommendation" event last. In
watch mode, one "packet_socket" event per socket. What the kernel does with a
packet socket before bind() is in shared KERNEL-NOTES.md ("AF_PACKET").
Without sock:sk_data_ready (before 6.3) the tracepoint backend refuses
pktleak: the tests that need it running skip there, and one checks the
refusal.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from lib import (BACKEND, SRC_PROGS, check, contains, eq, exit_code, feature,
                 fields, find, find_one, need_root, note, one_error_line,
                 probe, prog, python, run, skip, tracer, tracer_argv,
                 wait_file)

STRATEGIES = ("eth_p_all_then_bind", "drain_after_bind",
              "protocol_0_then_bind", "drop_filter_drain", "rx_ring",
              "filter_after_bind")
UNFILTERED = ("eth_p_all_then_bind", "drain_after_bind",
              "protocol_0_then_bind", "rx_ring")
STRATEGY_KEYS = ("name", "gap_ms", "reached_before_bind", "queued_before_bind",
                 "reached_by_ifname", "leaked_read", "reader_leaked",
                 "target_lost", "filter_attached_ms", "queued_before_filter",
                 "unfiltered_read", "gap_ns", "bind_duration_ns")
SOCKET_KEYS = ("pid", "fd", "protocol", "bound_ifname", "reached_before_bind",
               "reached_by_ifname", "queued_at_bind", "gap_ms",
               "bind_duration_ms", "filter_attached_ms",
               "queued_before_filter", "unfiltered_read", "queued_after_bind")
GAP_MS = 100
# Files the shared runs write (-w), kept until the tests end.
_files = tempfile.TemporaryDirectory(prefix="pktleak-tests-")
EXP_PCAP = os.path.join(_files.name, "exp.pcap")
# Strategy 6 with enough target traffic to fill its filter window, writing
# the leaked frames: one run for the filter window and for -w.
STRATEGY_6 = ("-s", "6", "--target-rate", "1000", "--filter-gap", "20",
              "-g", "20", "--snaplen", "32", "-w", EXP_PCAP)

# A private network namespace with two veth pairs, t0-t1 (bound) and n0-n1
# (noise), IPv6 off so the kernel sends nothing of its own; then exec "$@".
NETNS_SETUP = (
    "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; "
    "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; "
    "ip link add n0 type veth peer name n1 && "
    "ip link add t0 type veth peer name t1 && "
    "for l in lo n0 n1 t0 t1; do ip link set $l up || exit 1; done && "
    'exec "$@"')


def in_lab(argv):
    return ["unshare", "-n", "sh", "-c", NETNS_SETUP, "sh", *argv]


def in_noisy_lab(argv, noise):
    """argv in the lab while tests/progs/pkt_noise sends broadcast frames
    out of each (interface, frames/s[, "bind"]) of noise, started once every
    sender's frames leave (tx_packets in /proc/net/dev, this namespace's);
    exits with argv's status."""
    senders = "".join(
        f"{prog('pkt_noise')} {' '.join(map(str, n))} & "
        f"noise=\"$noise $!\"; "
        f"until [ \"$(awk '$1 == \"{n[0]}:\" {{ print $11 }}' "
        f"/proc/net/dev)\" -gt 0 ] 2>/dev/null; do sleep 0.01; done; "
        for n in noise)
    script = NETNS_SETUP.replace(' && exec "$@"', ' || exit 1; ' + senders +
                                 '"$@"; rc=$?; kill $noise; wait; exit $rc')
    return ["unshare", "-n", "sh", "-c", script, "sh", *argv]


def program_socket(events, reader, protocol, res=None):
    """The packet_socket event of the program's own capture socket (the
    noise senders' sockets are reported too)."""
    return find_one([e for e in events if e.get("comm") != "pkt_noise"],
                    what="packet_socket event", res=res,
                    event="packet_socket", fd=reader["fd"],
                    protocol=protocol)


def need_pktleak():
    """Root, and a backend that runs pktleak: the tracepoint backend needs
    sock:sk_data_ready (6.3+) and refuses without it (exit 3; that is
    test_tracepoint_refused_without_sk_data_ready)."""
    need_root()
    backend = BACKEND or probe().get("auto_backend")
    ok, reason = feature("sk_data_ready")
    if backend == "tracepoint" and not ok:
        skip(f"the tracepoint backend cannot count queued frames here:"
             f" sk_data_ready: {reason}")


# ------------------------------------------------ the built-in experiment

_runs = {}


def experiment(*args):
    """`tracer -j pktleak ARGS`, run once per ARGS: (result, events)."""
    need_pktleak()
    if args not in _runs:
        _runs[args] = tracer("-j", "pktleak", *args, timeout=60)
    res = _runs[args]
    exit_code(res, 0)
    events = res.json()
    check(events, "no JSON lines on stdout", res)
    return res, events


def strategy(events, name):
    return find_one(events, what="strategy event", event="strategy",
                    name=name)


def test_experiment_reports_every_strategy():
    res, events = experiment()
    eq(events[0].get("event"), "setup", "first event", res)
    for name in STRATEGIES:
        row = strategy(events, name)
        missing = [k for k in STRATEGY_KEYS if k not in row]
        eq(missing, [], f"keys missing from the {name} row")
        eq(row["gap_ms"], GAP_MS, f"{name}: gap_ms")
    eq(events[-1].get("event"), "recommendation", "last event", res)


def test_eth_p_all_then_bind_leaks_noise():
    _, events = experiment()
    row = strategy(events, "eth_p_all_then_bind")
    note(f"strategy 1: {row['reached_before_bind']} reached before bind "
         f"{row['reached_by_ifname']}, {row['leaked_read']} leaked")
    check(row["reached_by_ifname"].get("noise", 0) > 0,
          f"no noise frame reached the socket before bind: {row}")
    check(row["leaked_read"] > 0, f"strategy 1 leaked nothing: {row}")


def test_protocol_0_and_filter_leak_nothing():
    _, events = experiment()
    for name in ("protocol_0_then_bind", "drop_filter_drain"):
        row = strategy(events, name)
        eq(row["leaked_read"], 0, f"{name}: leaked_read")
        eq(row["reader_leaked"], 0, f"{name}: reader_leaked")
    row = strategy(events, "protocol_0_then_bind")
    eq(row["reached_before_bind"], 0,
       "protocol 0: frames reaching the socket before bind")
    row = strategy(events, "drop_filter_drain")
    check(row["reached_before_bind"] > 0,
          f"drop-all filter: frames should reach the hook, only to be "
          f"filtered: {row}")


def test_drain_leaks_nothing_but_loses_target_frames():
    _, events = experiment()
    row = strategy(events, "drain_after_bind")
    eq(row["leaked_read"], 0, "drain: leaked_read")
    eq(row["reader_leaked"], 0, "drain: reader_leaked")
    check(row["target_lost"] > 0,
          f"drain: expected lost target frames with a target flow: {row}")


def test_ring_leaks_like_the_template():
    _, events = experiment()
    row = strategy(events, "rx_ring")
    check(row["leaked_read"] > 0, f"rx_ring leaked nothing: {row}")


def test_bpf_and_reader_agree():
    _, events = experiment()
    for name in STRATEGIES:
        row = strategy(events, name)
        eq(row["leaked_read"], row["reader_leaked"],
           f"{name}: leaked_read (BPF) vs reader_leaked")
    note("leaked_read == reader_leaked: " + ", ".join(
        f"{strategy(events, n)['leaked_read']}" for n in STRATEGIES)
        + " (strategies 1-6)")


def test_filter_window_only_where_a_filter_is_attached():
    _, events = experiment()
    for name in UNFILTERED:
        row = strategy(events, name)
        eq((row["filter_attached_ms"], row["queued_before_filter"],
            row["unfiltered_read"]), (None, None, None),
           f"{name} attaches no filter: filter window fields")
    row = strategy(events, "drop_filter_drain")
    check(row["filter_attached_ms"] is not None
          and row["filter_attached_ms"] < GAP_MS,
          f"drop-all filter: attached before bind: {row}")
    eq(row["queued_before_filter"], 0,
       "drop-all filter before bind: frames queued after bind before it")
    eq(row["unfiltered_read"], 0, "drop-all filter: unfiltered_read")


def test_filter_after_bind_reads_unfiltered_frames():
    """dhclient's pattern: the target flow's frames queued between bind and
    the filter are read after the filter is in place, unfiltered."""
    _, events = experiment(*STRATEGY_6)
    row = strategy(events, "filter_after_bind")
    note(f"strategy 6: filter at {row['filter_attached_ms']} ms, "
         f"{row['queued_before_filter']} queued before it, "
         f"{row['unfiltered_read']} read unfiltered, gap "
         f"{row['gap_ns'] / 1e6:.1f} ms, bind "
         f"{row['bind_duration_ns'] / 1e6:.1f} ms")
    check(row["queued_before_filter"] > 0,
          f"no frame queued between bind and the filter: {row}")
    # the reader reads everything: every frame of the window, after the filter
    eq(row["unfiltered_read"], row["queued_before_filter"],
       "unfiltered_read vs queued_before_filter")
    gap_bind = row["gap_ns"] + row["bind_duration_ns"]
    check(row["filter_attached_ms"] * 1e6 >= gap_bind + 20e6 * 0.9,
          f"filter attached before bind + filter gap: {row}")
    check(row["leaked_read"] > 0, f"ETH_P_ALL then bind leaks: {row}")


def test_tracepoint_refused_without_sk_data_ready():
    need_root()
    ok, reason = feature("sk_data_ready")
    if ok:
        skip("sock:sk_data_ready exists on this kernel: the tracepoint"
             " backend runs pktleak (the other tests check it)")
    res = tracer("--backend", "tracepoint", "-j", "pktleak")
    exit_code(res, 3)
    eq(res.err, "", "stderr with -j", res)
    events = res.json()
    eq(len(events), 1, "JSON lines on stdout", res)
    eq(events[0].get("exit"), 3, "JSON error's exit", res)
    check("sk_data_ready" in events[0].get("error", ""),
          f"JSON error should name sk_data_ready: {events[0]}", res)
    res = tracer("--backend", "tracepoint", "pktleak")
    exit_code(res, 3)
    check("sk_data_ready" in one_error_line(res),
          "error line should name sk_data_ready", res)


def test_recommendation_is_leak_free():
    _, events = experiment()
    rec = find_one(events, event="recommendation")
    check(rec.get("strategy") in ("protocol_0_then_bind", "drop_filter_drain"),
          f"recommended a strategy that leaks or loses frames: {rec}")


def test_repeat_prints_min_median_max():
    _, events = experiment("-n", "3", "-s", "1,3", "-g", "30")
    eq(len(find(events, event="strategy", name="eth_p_all_then_bind")), 3,
       "strategy 1 rows with --repeat 3")
    summary = find_one(events, event="strategy_summary",
                       name="eth_p_all_then_bind")
    leaked = summary["leaked_read"]
    check(leaked["min"] <= leaked["median"] <= leaked["max"],
          f"min/median/max out of order: {leaked}")
    eq(find(events, event="strategy", name="drain_after_bind"), [],
       "rows of strategies not asked for with -s 1,3")


def test_text_table_and_timeline():
    need_pktleak()
    res = tracer("-v", "pktleak", "-s", "1", "-g", "20", timeout=60)
    exit_code(res, 0)
    for part in ("ETH_P_ALL, then bind", "Recommendation:", "socket()",
                 "bind()", "frame reached", "frame read"):
        check(part in res.out, f"text output lacks {part!r}", res)
    check(re.search(r"\+\s*\d+\.\d+ ms  bind\(\) .* took \d+\.\d+ ms",
                    res.out), "bind() line with its duration", res)


def test_interface_mode_uses_the_given_interface():
    need_pktleak()
    res = run(["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"',
               "sh", *tracer_argv("-j", "pktleak", "-i", "lo", "-s", "3",
                                  "-g", "10")], timeout=60)
    exit_code(res, 0)
    setup = find_one(res.json(), event="setup")
    eq(setup.get("target_ifname"), "lo", "setup.target_ifname")
    row = find_one(res.json(), event="strategy")
    eq(row["leaked_read"], 0, "protocol 0 on lo: leaked_read")


# ------------------------------------------------------------ bad input

def test_bad_input_exits_2_with_one_line():
    need_root()
    cases = (["--rate", "0"], ["--rate", "1000001"], ["--gap", "-5"],
             ["--gap", "x"], ["-i", "nosuch0"], ["-p", "999999999"],
             ["--strategy", "7"], ["--filter-gap", "10001"], ["--bogus"],
             ["-n", "0"], ["--snaplen", "64"],
             ["-w", "/nonexistent/dir/x.pcap"],
             ["-w", "/tmp/x.pcap", "--snaplen", "0"],
             ["-w", "/tmp/x.pcap", "--snaplen", "2049"],
             ["--duration", "3"], ["--rate", "10", "--all"])
    for args in cases:
        res = tracer("pktleak", *args)
        exit_code(res, 2)
        one_error_line(res)
    res = tracer("-j", "pktleak", "-i", "nosuch0")
    exit_code(res, 2)
    err = res.json()[0]
    check("nosuch0" in err.get("error", "") and err.get("exit") == 2,
          f"JSON error: {err}")


# ------------------------------------------------------------ watch mode

def capture_events(res):
    events = res.json()
    reader = [e for e in events if "read_other" in e]
    check(len(reader) == 1, "pkt_capture printed no result", res)
    return events, reader[0]


def check_capture_socket(events, reader, res):
    sock = find_one(events, what="packet_socket event", res=res,
                    event="packet_socket", fd=reader["fd"])
    missing = [k for k in SOCKET_KEYS if k not in sock]
    eq(missing, [], "keys missing from packet_socket")
    eq(sock["protocol"], 3, "protocol (ETH_P_ALL)")
    eq(sock["bound_ifname"], "t0", "bound_ifname")
    check(reader["read_other"] > 0, f"the program read no leaked frame: "
          f"{reader}", res)
    eq(sock["queued_at_bind"], reader["read_other"],
       "frames queued at bind vs frames the program read from other "
       "interfaces")
    check(set(sock["reached_by_ifname"]) <= {"n0", "n1"},
          f"reached_by_ifname: {sock['reached_by_ifname']}")
    eq(sock["leaked_read"], reader["read_other"], "leaked_read (BPF)")
    return sock


def test_watch_command():
    need_pktleak()
    res = tracer("-j", "pktleak", "--",
                 *in_lab([prog("pkt_capture"), "t0", "n0", "100", "40", "7"]),
                 timeout=60)
    exit_code(res, 7)  # the command's exit status
    events, reader = capture_events(res)
    sock = check_capture_socket(events, reader, res)
    eq(reader["read_other"], 80, "frames read from n0 (out) and n1 (in)")
    check(90 <= sock["gap_ms"] < 1000, f"gap_ms: {sock['gap_ms']}")
    check(0 < sock["bind_duration_ms"] < 1000,
          f"bind_duration_ms: {sock['bind_duration_ms']}")
    eq(sock["filter_attached_ms"], None, "pkt_capture attaches no filter")


def start_tracer(args, ready):
    proc = subprocess.Popen(tracer_argv(*args, "--ready-file", ready),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    # an early exit is the test's to judge, from the exit status
    check(wait_file(ready, proc, 10) or proc.poll() is not None,
          "tracer never became ready")
    return proc


def test_watch_pid():
    need_pktleak()
    with tempfile.TemporaryDirectory() as tmp:
        go = os.path.join(tmp, "go")
        target = subprocess.Popen(
            in_lab([prog("pkt_capture"), "t0", "n0", "50", "25"]),
            stdout=subprocess.PIPE, text=True,
            env=dict(os.environ, PKT_CAPTURE_WAIT_FOR=go))
        proc = start_tracer(["-j", "pktleak", "-p", str(target.pid)],
                            os.path.join(tmp, "ready"))
        open(go, "w").close()
        reader = json.loads(target.communicate(timeout=30)[0])
        out, err = proc.communicate(timeout=30)
    eq(proc.returncode, 0, f"tracer -p exit status (stderr: {err})")
    events = [json.loads(line) for line in out.splitlines() if line]
    sock = find_one(events, event="packet_socket", fd=reader["fd"])
    eq(sock["pid"], target.pid, "packet_socket.pid")
    eq(sock["queued_at_bind"], reader["read_other"],
       "frames queued at bind vs frames read from other interfaces")


def test_watch_all_with_duration():
    """The lab is built first and pkt_capture waits for the go file, so the
    3 s hold its run only (building the lab took over 3 s in loaded TCG
    guests)."""
    need_pktleak()
    with tempfile.TemporaryDirectory() as tmp:
        go = os.path.join(tmp, "go")
        target = subprocess.Popen(
            in_lab([prog("pkt_capture"), "t0", "n0", "20", "10"]),
            stdout=subprocess.PIPE, text=True,
            env=dict(os.environ, PKT_CAPTURE_WAIT_FOR=go))
        proc = start_tracer(["-j", "pktleak", "--all", "--duration", "3"],
                            os.path.join(tmp, "ready"))
        open(go, "w").close()
        target_out = target.communicate(timeout=30)[0]
        out, err = proc.communicate(timeout=30)
    eq(target.returncode, 0, "pkt_capture exit status")
    eq(proc.returncode, 0, f"tracer --all exit status (stderr: {err})")
    reader = json.loads(target_out)
    events = [json.loads(line) for line in out.splitlines() if line]
    sock = [e for e in events if e.get("event") == "packet_socket"
            and e.get("comm") == "pkt_capture" and e.get("fd") ==
            reader["fd"] and e.get("protocol") == 3]
    check(sock, f"no packet_socket for pkt_capture in {events}")
    eq(sock[0]["queued_at_bind"], reader["read_other"],
       "--all: queued at bind vs read from other interfaces")


# ------------------------------------------------------------ cleanup

def net_namespaces():
    return sorted(run(["lsns", "-t", "net", "-n", "-o", "NS"]).out.split())


def pktleak_programs():
    progs = json.loads(run(["bpftool", "-j", "prog", "show"]).out or "[]")
    return sorted(p.get("name", "") for p in progs
                  if p.get("name", "").startswith("pkt_"))


def live_tracers():
    """tracer processes that still run. After a SIGKILL, orphans are
    reparented to init; a zombie it has yet to reap holds nothing."""
    out = run(["ps", "-eo", "pid=,stat=,comm="]).out.splitlines()
    return [line for line in out
            if line.split()[2:] == ["tracer"] and "Z" not in line.split()[1]]


def settle(fn, expected, timeout=3.0):
    """BPF programs and namespaces go away after deferred teardown."""
    deadline = time.monotonic() + timeout
    while fn() != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return fn()


def interrupted_run(sig):
    need_pktleak()
    before_ns = net_namespaces()
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_tracer(["pktleak", "--gap", "3000"],
                            os.path.join(tmp, "ready"))
        time.sleep(0.5)  # the experiment is in its first gap
        check(net_namespaces() != before_ns,
              "no namespace was created by the experiment")
        os.kill(proc.pid, sig)
        proc.communicate(timeout=10)
    eq(settle(net_namespaces, before_ns), before_ns,
       f"network namespaces after {signal.Signals(sig).name}")
    eq(settle(pktleak_programs, []), [],
       f"pktleak BPF programs after {signal.Signals(sig).name}")
    eq(settle(live_tracers, []), [],
       f"tracer processes after {signal.Signals(sig).name}")
    return proc.returncode


def test_sigkill_leaves_nothing_behind():
    eq(interrupted_run(signal.SIGKILL), -signal.SIGKILL, "exit by SIGKILL")


def test_sigint_and_sigterm_leave_nothing_behind():
    for sig in (signal.SIGINT, signal.SIGTERM):
        eq(interrupted_run(sig), 1, f"exit status after {sig.name}")



# ------------------------------------------- real capture programs, noise

def reader_line(res):
    lines = [e for e in res.json() if "read_other" in e]
    check(len(lines) == 1, "the program printed no result", res)
    return lines[0]


def test_tcpdump_nothing_before_bind():
    """tcpdump (libpcap 1.10: socket(0), bind ETH_P_ALL, TPACKET_V3 ring)
    with noise on another pair and traffic on its own: nothing reaches it
    before bind, and the frames queued after bind are what it counts."""
    need_pktleak()
    tcpdump = shutil.which("tcpdump")
    if not tcpdump:
        skip("tcpdump is not installed (Debian package tcpdump)")
    # -Z root: no privilege drop to a "tcpdump" user the guests lack
    res = tracer("-j", "pktleak", "--", *in_noisy_lab(
        [tcpdump, "-Z", "root", "-i", "t0", "-nn", "-c", "50", "-w",
         "/dev/null"], noise=(("n1", 2000), ("t1", 500))), timeout=60)
    exit_code(res, 0)
    stats = [re.search(rf"(\d+) packets? {what}", res.err)
             for what in ("captured", "received by filter",
                          "dropped by kernel")]
    check(all(stats), "tcpdump printed no statistics", res)
    captured, received, dropped = (int(m.group(1)) for m in stats)
    socks = [e for e in res.json() if e.get("event") == "packet_socket"
             and e.get("comm") == "tcpdump" and e.get("bound_ifname") == "t0"]
    eq(len(socks), 1, "tcpdump's packet sockets bound to t0", res)
    sock = socks[0]
    note(f"tcpdump: {captured} captured, {received} received by filter; "
         f"tracer: {sock['queued_after_bind']} queued after bind, "
         f"{sock['reached_before_bind']} before bind")
    eq(sock["protocol"], 0, "tcpdump's socket() protocol")
    eq(sock["reached_before_bind"], 0, "tcpdump: frames before bind")
    eq(sock["leaked_read"], 0, "tcpdump: frames read from other interfaces")
    check(sock["filter_attached_ms"] is not None,
          f"libpcap attaches a filter: {sock}")
    # every frame tcpdump captured was queued to its ring after bind
    check(captured <= sock["queued_after_bind"],
          f"frames queued after bind {sock['queued_after_bind']} < tcpdump's"
          f" {captured} captured", res)
    # "received by filter" and "dropped by kernel" are PACKET_STATISTICS'
    # tp_packets + tp_drops and tp_drops, asked for just before tcpdump
    # closes: fentry and kprobe count each frame as tpacket_rcv() returns,
    # so they have seen all of those (and maybe a few frames more). The
    # tracepoint backend counts a TPACKET_V3 ring's frames when a block is
    # retired (sk_data_ready): those of the last, open block go uncounted.
    if (BACKEND or probe().get("auto_backend")) != "tracepoint":
        check(sock["queued_after_bind"] >= received - dropped,
              f"frames queued after bind {sock['queued_after_bind']} < "
              f"tcpdump's {received} received - {dropped} dropped", res)


def test_dhclient_binds_eth_p_all_then_filters():
    """ISC dhclient 4.4 (LPF), a real program of the report's pattern:
    socket(ETH_P_ALL), bind to its interface (sll_protocol 0 keeps ETH_P_ALL,
    packet_bind()), then SO_ATTACH_FILTER. Traced with noise on another pair
    and no DHCP server (-1: one try, exit 2): tracer reports dhclient's socket
    as such, whatever reached it before bind came from the noise pair, and no
    more frames of other interfaces were read after bind than had queued."""
    need_pktleak()
    dhclient = shutil.which("dhclient")
    if not dhclient:
        skip("dhclient is not installed (Debian package isc-dhcp-client)")
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "dhclient.conf")
        with open(conf, "w") as f:
            f.write("timeout 1;\nretry 1;\n")
        res = tracer("-j", "pktleak", "--", *in_noisy_lab(
            [dhclient, "-d", "-1", "-cf", conf, "-sf", "/bin/true",
             "-lf", os.path.join(d, "lease"), "-pf", os.path.join(d, "pid"),
             "t0"], noise=(("n1", 20000),)), timeout=60)
    exit_code(res, 2)
    contains(res.err, "DHCPDISCOVER on t0", "dhclient's own log", res)
    socks = [e for e in res.json() if e.get("event") == "packet_socket"
             and e.get("comm") == "dhclient"]
    eq(len(socks), 1, "dhclient's packet sockets", res)
    sock = socks[0]
    note(f"dhclient: bound {sock['gap_ms']} ms after socket(), filter at "
         f"{sock['filter_attached_ms']} ms; {sock['reached_before_bind']} "
         f"frames before bind {sock['reached_by_ifname']}, "
         f"{sock['leaked_read']} read after bind")
    fields(sock, "dhclient's socket", protocol_name="ETH_P_ALL",
           bound_ifname="t0", closed_by="exit")
    check(sock["filter_attached_ms"] is not None and
          sock["filter_attached_ms"] >= sock["gap_ms"],
          f"dhclient attaches its filter after bind: {sock}")
    eq(sum(sock["reached_by_ifname"].values()), sock["reached_before_bind"],
       "frames before bind, by interface vs in all")
    check(set(sock["reached_by_ifname"]) <= {"n0", "n1"},
          f"before bind only the noise pair sent: {sock['reached_by_ifname']}")
    # untracked: frames beyond the first 4 that reached the socket inside
    # socket() itself (counted from its queue, not by interface)
    check(sock["leaked_read"] <= sock["queued_before_bind"] +
          sock["untracked_frames"],
          f"read from other interfaces after bind > queued before: {sock}")


def test_python_capture_leaks():
    """socket(ETH_P_ALL), sleep, bind in Python: what it reads from other
    interfaces (recvfrom's sll_ifindex) is what tracer counts."""
    need_pktleak()
    res = tracer("-j", "pktleak", "--", *in_noisy_lab(
        [python(), os.path.join(SRC_PROGS, "pkt_capture.py"), "t0", "100"],
        noise=(("n1", 1000), ("t1", 200))), timeout=60)
    exit_code(res, 0)
    reader = reader_line(res)
    sock = program_socket(res.json(), reader, 3, res)
    note(f"python: read {reader['read_other']} of other interfaces "
         f"{reader['by_ifname']}; tracer: leaked_read {sock['leaked_read']},"
         f" reached before bind {sock['reached_by_ifname']}")
    check(reader["read_other"] > 0, f"nothing leaked: {reader}", res)
    eq(sock["leaked_read"], reader["read_other"],
       "leaked_read (BPF) vs the program's frames of other interfaces")
    check(sock["queued_at_bind"] >= reader["read_other"],
          f"queued at bind < read from other interfaces: {sock}")
    check(set(sock["reached_by_ifname"]) <= {"n0", "n1", "t0", "t1"},
          f"reached_by_ifname: {sock['reached_by_ifname']}")
    eq(sock["filter_attached_ms"], None, "the Python capture has no filter")


def test_watch_all_counts_frames_beside_bound_sockets():
    """--all, noise from bound senders (so no tracked socket is unbound
    and the device hooks return at once), then a capture opens its socket:
    every frame that reached it before bind from another interface is
    counted, as many as it read from that interface after bind."""
    need_pktleak()
    # 8 MB: the frames of the gap fit in the queue even if it stretches
    lab = in_noisy_lab([python(), os.path.join(SRC_PROGS, "pkt_capture.py"),
                        "t0", "100", str(8 << 20)],
                       noise=(("n1", 300, "bind"), ("t1", 100, "bind")))
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_tracer(["-j", "pktleak", "--all"],
                            os.path.join(tmp, "ready"))
        target = run(lab, timeout=60)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    eq(target.code, 0, f"the lab's exit status ({target.err})")
    eq(proc.returncode, 0, f"tracer --all exit status (stderr: {err})")
    reader = json.loads(target.out.splitlines()[-1])
    events = [json.loads(line) for line in out.splitlines() if line]
    socks = [e for e in events if e.get("event") == "packet_socket"]
    # --all: other processes' sockets too; only these senders bind
    senders = [e for e in socks if e["comm"] == "pkt_noise"
               and e["bound_ifname"] in ("n1", "t1")]
    eq(sorted(e["bound_ifname"] for e in senders), ["n1", "t1"],
       "the noise senders' sockets, bound")
    sock = find_one(socks, what="the capture's packet_socket event",
                    comm=os.path.basename(python())[:15], fd=reader["fd"],
                    protocol=3)
    bound_ms = [e["created_ms"] + e["gap_ms"] + e["bind_duration_ms"]
                for e in senders]
    check(max(bound_ms) < sock["created_ms"],
          f"a sender bound after the capture opened its socket: "
          f"{senders + [sock]}")
    other = {k: v for k, v in reader["by_ifname"].items() if k != "t0"}
    note(f"python read {other} of other interfaces; tracer: reached before "
         f"bind {sock['reached_by_ifname']}, queued "
         f"{sock['queued_before_bind']}")
    check(set(other) == {"n0", "n1", "t1"},
          f"frames of every other interface read: {reader}")
    eq(reader["drops"], 0, "frames the queue had no room for")
    for ifname, n in other.items():
        eq(sock["reached_by_ifname"].get(ifname), n,
           f"frames of {ifname} that reached the socket before bind vs read")
    eq(sock["reached_before_bind"], sock["queued_before_bind"],
       "reached before bind (device hooks) vs queued (sk_data_ready): no "
       "filter, room in the queue")


LATE_PCAP = os.path.join(_files.name, "late.pcap")
_late = []


def late_filter_run():
    """tests/progs/pkt_late_filter under `tracer -j pktleak -w`, once:
    (result, the program's own counts, its capture socket's event)."""
    need_pktleak()
    if not _late:
        res = tracer("-j", "pktleak", "-w", LATE_PCAP, "--", *in_noisy_lab(
            [prog("pkt_late_filter"), "t0", "t1", "50", "20", "30", "10"],
            noise=(("n1", 1000),)), timeout=60)
        exit_code(res, 0)
        reader = reader_line(res)
        _late.append((res, reader, program_socket(res.json(), reader, 3,
                                                  res)))
    return _late[0]


def test_late_filter_program_reads_unfiltered():
    """bind, then the filter 20 ms later (dhclient): the 30 frames it sends
    itself in between are read after the filter, unfiltered; it counts
    them as frames its filter would have rejected."""
    res, reader, sock = late_filter_run()
    note(f"pkt_late_filter: read {reader['read_rejected']} its filter "
         f"rejects, {reader['read_other']} of other interfaces; tracer: "
         f"queued_before_filter {sock['queued_before_filter']}, "
         f"unfiltered_read {sock['unfiltered_read']}, filter at "
         f"{sock['filter_attached_ms']} ms")
    eq(reader["read_rejected"], 30, "frames read that the filter rejects")
    eq(reader["read_wanted"], 10, "frames read that the filter keeps")
    eq(sock["queued_before_filter"], reader["read_rejected"],
       "queued_before_filter (BPF) vs the program's rejected reads")
    eq(sock["unfiltered_read"], reader["read_rejected"],
       "unfiltered_read (BPF) vs the program's rejected reads")
    eq(sock["leaked_read"], reader["read_other"], "leaked_read (BPF)")
    check(sock["filter_attached_ms"] >= sock["gap_ms"] +
          sock["bind_duration_ms"] + 20 * 0.9,
          f"filter_attached_ms before bind + 20 ms: {sock}")


def test_watch_timeline_reads_right():
    """-v in watch mode: times from the socket's socket(), every frame
    reached before queued before read, bind() with its duration."""
    need_pktleak()
    res = tracer("-j", "-v", "pktleak", "--",
                 *in_lab([prog("pkt_capture"), "t0", "n0", "50", "20"]),
                 timeout=60)
    exit_code(res, 0)
    reader = reader_line(res)
    sock = program_socket(res.json(), reader, 3, res)
    frames = [e for e in res.json() if e.get("event") == "frame"
              and e.get("pid") == sock["pid"] and e.get("fd") == sock["fd"]]
    check(frames, "no frame events for the capture socket", res)
    counts = {}
    for f in frames:
        eq(f["t_from"], "socket", "frame t_from")
        check(0 <= f["t_ms"] < 10000, f"t_ms not from socket(): {f}")
        c = counts.setdefault(f["ifname"], {"reached": 0, "queued": 0,
                                            "read": 0})
        c[f["what"]] += 1
        check(c["read"] <= c["queued"] <= c["reached"],
              f"out of causal order at {f}: {c}")
    eq(sum(c["read"] for c in counts.values()), reader["read_other"],
       "frames read in the timeline")


# ------------------------------------------------------------ -w FILE

def pcap_lines(path, res):
    """`tcpdump -r FILE -e -nn -q`: one line per frame."""
    tcpdump = shutil.which("tcpdump")
    if not tcpdump:
        skip("tcpdump is not installed (Debian package tcpdump): it reads"
             " the file")
    # -Z root: no privilege drop to a "tcpdump" user the guests lack
    out = run([tcpdump, "-Z", "root", "-r", path, "-e", "-nn", "-q"])
    eq(out.code, 0, f"tcpdump -r {path} exit status ({out.err})", res)
    return out.out.splitlines()


def ifindex_of(pcap, name):
    found = [int(i) for i, n in pcap["interfaces"].items() if n == name]
    check(len(found) == 1, f"no ifindex for {name}: {pcap}")
    return found[0]


def test_write_leaked_frames_of_a_program():
    """-w in watch mode: the frames that reached the socket before bind and
    those read unfiltered, each with its interface and direction."""
    res, reader, sock = late_filter_run()
    pcap = find_one(res.json(), event="pcap", res=res)
    lines = pcap_lines(LATE_PCAP, res)
    note(f"-w: {pcap['frames']} frames ({pcap['before_bind']} before bind,"
         f" {pcap['unfiltered']} unfiltered), interfaces "
         f"{pcap['interfaces']}; tcpdump -r lists {len(lines)}")
    eq(pcap["frames_lost"], 0, "frames lost for want of ring room")
    eq(pcap["malformed_records"], 0,
       "ring records of a wrong size or kind (dropped)")
    eq(pcap["before_bind"], sock["reached_before_bind"],
       "frames written as reached before bind")
    eq(pcap["unfiltered"], sock["unfiltered_read"],
       "frames written as read unfiltered")
    eq(pcap["frames"], pcap["before_bind"] + pcap["unfiltered"],
       "frames written")
    eq(len(lines), pcap["frames"], "frames tcpdump -r lists")
    t0 = ifindex_of(pcap, "t0")
    rejected = [line for line in lines if f"ifindex {t0} " in line
                and "02:00:00:00:00:03" in line]
    eq(len(rejected), reader["read_rejected"],
       "t0 frames from 02:00:00:00:00:03 (the ones its filter rejects)")
    for name, count in sock["reached_by_ifname"].items():
        idx = ifindex_of(pcap, name)
        eq(len([line for line in lines if f"ifindex {idx} " in line]),
           count, f"frames of {name} (ifindex {idx}) in the file")
    # the noise leaves n1 and arrives on n0
    check(any(f"Out ifindex {ifindex_of(pcap, 'n1')} " in line
              for line in lines), f"no outgoing n1 frame: {lines[:5]}")


def test_write_leaked_frames_of_the_experiment():
    res, events = experiment(*STRATEGY_6)
    lines = pcap_lines(EXP_PCAP, res)
    pcap = find_one(events, event="pcap", res=res)
    rows = find(events, event="strategy")
    before = sum(r["reached_before_bind"] for r in rows)
    unfiltered = sum(r["unfiltered_read"] or 0 for r in rows)
    eq(pcap["frames_lost"], 0, "frames lost for want of ring room")
    eq(pcap["malformed_records"], 0,
       "ring records of a wrong size or kind (dropped)")
    eq((pcap["before_bind"], pcap["unfiltered"]), (before, unfiltered),
       "frames written vs the strategies' counts")
    eq(len(lines), pcap["frames"], "frames tcpdump -r lists")
    eq(pcap["snaplen"], 32, "snaplen")
    check(pcap["unfiltered"] > 0, f"no unfiltered frame written: {pcap}")
    for name in ("noise", "target"):
        idx = ifindex_of(pcap, name)
        check(any(f"ifindex {idx} " in line for line in lines),
              f"no frame of {name} in the file: {lines[:3]}")
