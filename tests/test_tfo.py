# SPDX-License-Identifier: GPL-2.0
"""`tracer -j tfo`: the built-in investigation, `-- COMMAND` and `-p PID`.

JSON contract: a "start" event (backend, reason), one "send" event per traced
send, a "verdict" event last. MSG_FASTOPEN is 0x20000000. What each built-in
case does on Linux is in shared KERNEL-NOTES.md ("When a MSG_FASTOPEN send
fails").
"""
import json
import re
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time

from lib import (BACKEND, MSG_FASTOPEN, SRC_PROGS, TRACER, Result, bpf_links,
                 check, contains, default_backend, eq, exit_code, feature,
                 fields, find, find_one, in_netns, need_root, need_tracer,
                 note, probe, prog, python, run, skip, split_output,
                 tracer_argv, wait_file)

BACKENDS = ("fentry", "kprobe", "tracepoint")
CASES = ("sendto", "sendmsg_noaddr", "sendmsg_addr", "send", "connect_sendmsg",
         "raw_sendmsg_noaddr", "client_disabled", "connected", "udp",
         "ipv6_sendmsg_noaddr", "sendmsg_scm_rights", "fastopen_connect",
         "nonblock_sendto", "server_refuses", "client_no_cookie")
SEND_KEYS = ("case", "pid", "comm", "syscall", "flags", "libc_flags",
             "libc_function", "addrlen", "ret", "errno", "origin",
             "tcp_states", "syn", "syn_data", "backend")
CLOSED_PORT = 47001  # nothing listens on it in a fresh network namespace


# ------------------------------------------------ the built-in investigation
#
# `tracer -j tfo` runs once with --backend auto and once with each backend
# this kernel allows (per `tracer -j probe`), or only TRACER_TEST_BACKEND's;
# the case tests check every one.

_runs = {}
_leftovers = None


def _sysctl(name):
    with open("/proc/sys/" + name.replace(".", "/")) as f:
        return f.read().strip()


def _netns_list():
    return run(["ip", "netns", "list"]).out


def _tfo_bpf_programs():
    """Names of loaded BPF programs of the tfo skeleton (tfo_*, libc_*)."""
    progs = json.loads(run(["bpftool", "-j", "prog", "show"]).out or "[]")
    return sorted(p.get("name", "") for p in progs
                  if p.get("name", "").startswith(("tfo_", "libc_send")))


def _tracer_processes():
    """A built-in run's case runner is a tracer child in its own netns:
    with it gone, so is the namespace."""
    return run(["pgrep", "-x", "tracer"]).out.split()


def _programs_gone(timeout=3.0):
    """The kernel frees programs after their links' deferred teardown
    (perf-event close waits for RCU grace periods): poll, bounded."""
    deadline = time.monotonic() + timeout
    while _tfo_bpf_programs() and time.monotonic() < deadline:
        time.sleep(0.05)
    return _tfo_bpf_programs()


def _leftover_state(after=False):
    return (_sysctl("net.ipv4.tcp_fastopen"), _netns_list(),
            _programs_gone() if after else _tfo_bpf_programs(),
            _tracer_processes())


def builtin(backend=None):
    """`tracer -j --backend BACKEND tfo`, run once: (result, events).
    BACKEND defaults to auto, or TRACER_TEST_BACKEND."""
    global _leftovers
    need_root()
    backend = backend or default_backend()
    if backend not in _runs:
        before = _leftover_state()
        _runs[backend] = run([need_tracer(), "-j", "--backend", backend,
                              "tfo"], timeout=60)
        after = _leftover_state(after=True)
        if backend == default_backend():
            _leftovers = before, after
    res = _runs[backend]
    exit_code(res, 0)
    events = res.json()
    check(events, "no JSON lines on stdout", res)
    return res, events


def allowed_backends():
    """Backends whose programs this kernel loads (what `auto` chooses from);
    with TRACER_TEST_BACKEND, that one only, which must be among them."""
    f = probe()["features"]
    needs = {"fentry": "fentry", "kprobe": "kprobe", "tracepoint": "tp_btf"}
    if not (f["btf"]["ok"] and f["ringbuf"]["ok"]):
        allowed = []
    else:
        allowed = [b for b in BACKENDS if f[needs[b]]["ok"]]
    if BACKEND:
        check(BACKEND in allowed, f"TRACER_TEST_BACKEND={BACKEND}: this kernel"
              f" allows {allowed} only (tracer -j probe: {f})")
        return [BACKEND]
    return allowed


def backend_runs():
    """(backend, send events) for every allowed backend."""
    backends = allowed_backends()
    check(backends, f"no backend works on this kernel: {probe()}")
    for backend in backends:
        _, events = builtin(backend)
        yield backend, find(events, event="send")


def case_event(sends, case, **match):
    return find_one(sends, what="send event", case=case, **match)


def settled_fastopen(events, send):
    """A send's Fast Open outcome as finally known: its own at the syscall's
    exit, or, when that was still pending (data_acked null: a nonblocking
    send returned before the answer, as it may under load when the loopback
    SYN-ACK is handled later by ksoftirqd), the fastopen_result event that
    followed it for the same process, fd and case."""
    fo = send["fastopen"]
    if not fo or fo["data_acked"] is not None:
        return fo
    for e in events[events.index(send) + 1:]:
        if (e.get("event") == "fastopen_result" and e["pid"] == send["pid"]
                and e["fd"] == send["fd"] and e["case"] == send["case"]):
            return e["fastopen"]
    return fo


def test_builtin_leaves_nothing_behind():
    builtin()
    before, after = _leftovers
    eq(after[0], before[0], "net.ipv4.tcp_fastopen after the run")
    eq(after[1], before[1], "`ip netns list` after the run")
    eq(after[2], [], "tfo BPF programs still loaded after the run")
    eq(after[3], before[3], "tracer processes after the run")


def test_start_event():
    res, events = builtin("auto")
    start = events[0]
    eq(start.get("event"), "start", "first event", res)
    check(isinstance(start.get("reason"), str) and start["reason"],
          f"start.reason: expected a text, got {start}")
    eq(start.get("backend"), probe().get("auto_backend"),
       "start.backend vs tracer -j probe's auto_backend")
    for backend in allowed_backends():
        res, events = builtin(backend)
        eq(events[0].get("backend"), backend,
           f"start.backend with --backend {backend}", res)


def test_verdict_event_last():
    for backend in ["auto", *allowed_backends()]:
        res, events = builtin(backend)
        verdict = events[-1]
        eq(verdict.get("event"), "verdict", "last event", res)
        fields(verdict, f"verdict ({backend})", libc_changes_flags=False)


def test_all_cases_present():
    for backend, sends in backend_runs():
        seen = {e.get("case") for e in sends}
        missing = [c for c in CASES if c not in seen]
        check(not missing, f"{backend}: cases missing: {missing};"
              f" seen: {sorted(seen, key=str)}")


def test_send_events_have_every_field():
    for backend, sends in backend_runs():
        for e in sends:
            missing = [k for k in SEND_KEYS if k not in e]
            check(not missing, f"send event lacks {missing}: {e}")
            eq(e["backend"], backend, f"case {e['case']}: backend")
            check(isinstance(e["tcp_states"], list),
                  f"case {e['case']}: tcp_states is not a list: {e}")


def check_send(e, syscall, errno, libc_function=None, origin_function=None):
    """Checks every case shares: result, libc vs syscall flags, origin."""
    what = f"case {e['case']} ({e['backend']} backend)"
    fields(e, what, syscall=syscall, errno=errno)
    if libc_function is not None:
        fields(e, what, libc_function=libc_function, libc_flags=e["flags"])
    if errno is None:
        check(e["ret"] >= 0 and e["origin"] is None,
              f"{what}: success must have ret >= 0 and origin null: {e}")
        return
    check(e["ret"] < 0, f"{what}: failure with ret {e['ret']}: {e}")
    origin = e["origin"]
    check(isinstance(origin, dict), f"{what}: failure without an origin: {e}")
    if e["backend"] in ("fentry", "kprobe"):
        check(origin.get("layer") == "function" and origin.get("function"),
              f"{what}: {e['backend']} backend must name the function that"
              f" failed (layer 'function'): {origin}")
        if origin_function:
            eq(origin["function"], origin_function, f"{what}: origin function")
    elif feature("sock_send_length")[0]:
        socket_fn = "inet6_sendmsg" if "ipv6" in e["case"] else "inet_sendmsg"
        fields(origin, f"{what}: origin on the tracepoint backend",
               layer="socket", function=socket_fn)
    else:
        # Before 6.3 (no sock:sock_send_length) the tracepoint backend sees
        # the syscall only (README, Backends).
        fields(origin, f"{what}: origin on the tracepoint backend without"
               " sock:sock_send_length", layer="syscall", function=None)


def _sendto_attempt(n, syn_data):
    for backend, sends in backend_runs():
        e = case_event(sends, "sendto", attempt=n)
        what = f"sendto attempt {n} ({backend})"
        check_send(e, "sendto", None, "sendto")
        check(e["flags"] & MSG_FASTOPEN, f"{what}: no MSG_FASTOPEN: {e}")
        check(e["ret"] > 0, f"{what}: expected bytes sent: {e}")
        fields(e, what, syn=True, syn_data=syn_data)
        for state in ("SYN_SENT", "ESTABLISHED"):
            check(state in e["tcp_states"],
                  f"{what}: {state} not in tcp_states {e['tcp_states']}")


def test_case_sendto_cookie_request():
    _sendto_attempt(1, False)


def test_case_sendto_with_cookie():
    _sendto_attempt(2, True)


def _fastopen_case(case, syscall, errno, wrapper, origin_function=None,
                   **more):
    """One MSG_FASTOPEN case, under every backend: its events."""
    found = []
    for backend, sends in backend_runs():
        e = case_event(sends, case, syscall=syscall)
        eq(e["flags"] & MSG_FASTOPEN, MSG_FASTOPEN,
           f"case {case} ({backend}): flags")
        check_send(e, syscall, errno, wrapper, origin_function)
        fields(e, f"case {case} ({backend})", **more)
        found.append(e)
    return found


def test_case_sendmsg_noaddr():
    for e in _fastopen_case("sendmsg_noaddr", "sendmsg", "EINVAL", "sendmsg",
                            "tcp_v4_connect", addrlen=0):
        o = e["origin"]
        note(f"{e['backend']}: origin {o['function'] or '-'} ({o['layer']}"
             f" layer){': ' + o['condition'] if o['condition'] else ''}")


def test_case_sendmsg_addr():
    for e in _fastopen_case("sendmsg_addr", "sendmsg", None, "sendmsg"):
        check(e["ret"] > 0, f"sendmsg_addr: expected bytes sent: {e}")


def test_case_send():
    # glibc's send() is sendto(fd, buf, len, flags, NULL, 0).
    _fastopen_case("send", "sendto", "EINVAL", "send", addrlen=0)


def test_case_connect_sendmsg():
    for backend, sends in backend_runs():
        e = case_event(sends, "connect_sendmsg", syscall="sendmsg")
        fields(e, f"connect_sendmsg ({backend})", flags=0)
        check_send(e, "sendmsg", None, "sendmsg")


def test_case_raw_sendmsg_noaddr():
    # syscall(SYS_sendmsg, ...): no libc wrapper, so nothing for libc_*.
    _fastopen_case("raw_sendmsg_noaddr", "sendmsg", "EINVAL", None,
                   libc_flags=None, libc_function=None)


def test_case_client_disabled():
    _fastopen_case("client_disabled", "sendto", "EOPNOTSUPP", "sendto")


def test_case_connected():
    _fastopen_case("connected", "sendto", "EISCONN", "sendto")


def test_case_udp():
    for e in _fastopen_case("udp", "sendto", None, "sendto"):
        check(e["ret"] > 0, f"udp: expected bytes sent: {e}")


def test_case_ipv6_sendmsg_noaddr():
    _fastopen_case("ipv6_sendmsg_noaddr", "sendmsg", "EINVAL", "sendmsg",
                   "tcp_v6_connect")


def test_case_sendmsg_scm_rights():
    _fastopen_case("sendmsg_scm_rights", "sendmsg", "EINVAL", "sendmsg")


def test_case_fastopen_connect():
    for backend, sends in backend_runs():
        what = f"fastopen_connect ({backend})"
        connect = case_event(sends, "fastopen_connect", syscall="connect")
        fields(connect, f"{what} connect()", ret=0, errno=None)
        write = case_event(sends, "fastopen_connect", syscall="write")
        check_send(write, "write", None)
        check(write["ret"] > 0, f"{what} write(): no bytes sent: {write}")
        fields(write, f"{what} write()", syn_data=True)


# ------------------------------------------------------- -- COMMAND [ARGS]

def parse_client(lines):
    """tfo_client's stdout: 'NAME pid=N', then 'CALL key=value ...' lines."""
    check(lines and " pid=" in lines[0], f"client output: {lines}")
    pid = int(lines[0].split("pid=")[1])
    calls = []
    for line in lines[1:]:
        name, *pairs = line.split()
        call = dict(p.split("=", 1) for p in pairs)
        call["call"] = name
        call["flags"] = int(call["flags"], 0)
        call["errno"] = None if call["errno"] == "none" else call["errno"]
        calls.append(call)
    return pid, calls


def trace_command(argv, *options):
    """`tracer -j tfo [options] -- argv` in a fresh network namespace."""
    need_root()
    res = run(in_netns(tracer_argv("-j", "tfo", *options, "--", *argv)),
              timeout=60)
    events, other = split_output(res.out)
    return res, events, other


def check_client(argv, *options):
    """Every send the client reports has a matching event, fields equal."""
    res, events, other = trace_command([*argv, str(CLOSED_PORT), "--plain"],
                                       *options)
    exit_code(res, 0)
    pid, calls = parse_client(other)
    eq(len(calls), 3, "calls the client reported", res)
    mine = find(events, event="send", pid=pid)
    for call in calls:
        if call["flags"] & MSG_FASTOPEN or "--all" in options:
            e = find_one(mine, what="send event", res=res,
                         syscall=call["call"], flags=call["flags"])
            fields(e, f"client's {call['call']}", errno=call["errno"],
                   addrlen=int(call["addrlen"]), libc_flags=call["flags"],
                   libc_function=call["call"])
        else:
            eq(find(mine, flags=call["flags"]), [],
               "events for the client's send without MSG_FASTOPEN"
               " (only --all reports them)", res)
    noaddr = find_one(mine, what="send event", res=res, syscall="sendmsg")
    fields(noaddr, "client's sendmsg without address", errno="EINVAL",
           flags=MSG_FASTOPEN, libc_flags=MSG_FASTOPEN,
           libc_function="sendmsg")
    # the closed port's refusal is read from the state changes seen
    refused = find_one(mine, what="send event", res=res, syscall="sendto",
                       flags=MSG_FASTOPEN)
    fields(refused, "client's sendto to a closed port", errno="ECONNREFUSED")
    eq(refused["tcp_states"][-2:], ["SYN_SENT", "CLOSE"],
       "the refused sendto's last state changes", res)
    eq(refused["origin"]["condition_source"],
       "socket state changes during the call",
       "where the refused sendto's condition comes from", res)
    return res, events, mine


def test_command_c_client():
    res, events, mine = check_client([prog("tfo_client")])
    eq(events[0].get("event"), "start", "first event", res)
    eq(events[-1].get("event"), "verdict", "last event", res)
    check(all(e["comm"] == "tfo_client" for e in mine),
          f"comm of the client's events: {[e['comm'] for e in mine]}", res)


def test_command_python_client():
    check_client([python(), os.path.join(SRC_PROGS, "tfo_client.py")])


def test_command_ruby_client():
    check_client(["ruby", os.path.join(SRC_PROGS, "tfo_client.rb")])


def test_command_all_libc_shows_sends_without_fastopen():
    _, _, mine = check_client([prog("tfo_client")], "--all", "--libc")
    check(find(mine, syscall="sendto", flags=0),
          f"--all: no event for the client's UDP sendto with flags 0: {mine}")


def test_command_all_leaves_libc_unprobed():
    """--all is made for volume: no uprobe (a trap per call) on libc, yet
    every send is there with what the kernel got and the TCP story."""
    res, events, _ = trace_command([prog("tfo_client"), str(CLOSED_PORT),
                                    "--plain"], "--all")
    exit_code(res, 0)
    pid, calls = parse_client(split_output(res.out)[1])
    eq(events[0].get("libc"), None, "start event's libc (not probed)", res)
    mine = find(events, event="send", pid=pid)
    eq(len(mine), len(calls), "send events, one per client call", res)
    for call in calls:
        e = find_one(mine, what="send event", res=res, syscall=call["call"],
                     flags=call["flags"])
        fields(e, f"--all {call['call']}", errno=call["errno"],
               addrlen=int(call["addrlen"]), libc_function=None,
               libc_flags=None)
    refused = find_one(mine, what="send event", res=res, syscall="sendto",
                       flags=MSG_FASTOPEN)
    check(refused["syn"] and refused["tcp_states"][:2] == ["CLOSE",
                                                           "SYN_SENT"],
          f"--all: the Fast Open sendto's SYN and states: {refused}", res)
    eq(find(events, event="verdict")[0].get("libc_seen"), 0,
       "libc calls seen with --all", res)


UDP_SENDS = """
import os, socket
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 0))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
s.sendto(b"a", r.getsockname())
s.setblocking(True)
s.sendto(b"bb", r.getsockname())
s.sendto(b"ccc", socket.MSG_DONTWAIT, r.getsockname())
print("pid", os.getpid(), flush=True)
"""


def test_command_all_udp_sends_every_field():
    """--all: a send on a socket that is not TCP comes from BPF as a
    shorter record (no SYN, Fast Open or accept fields); its event has every
    field all the same, nonblocking from the file's O_NONBLOCK (read at the
    socket layer) or MSG_DONTWAIT, and the verdict counts each send."""
    res, events, other = trace_command([python(), "-c", UDP_SENDS], "--all")
    exit_code(res, 0)
    pid = int(next(x for x in other if x.startswith("pid ")).split()[1])
    mine = find(events, event="send", pid=pid, syscall="sendto")
    eq([e["ret"] for e in mine], [1, 2, 3], "the UDP sendto() calls' ret",
       res)
    for e, nonblocking in zip(mine, (True, False, True)):
        missing = [k for k in SEND_KEYS if k not in e]
        check(not missing, f"send event lacks {missing}: {e}", res)
        fields(e, f"UDP sendto of {e['ret']} bytes", errno=None, addrlen=16,
               family="AF_INET", nonblocking=nonblocking, syn=False,
               syn_payload=0, tcp_states=[], fastopen=None, tfo_option=None,
               origin=None, outcome="success")
    totals = find(events, event="verdict")[0]["totals"]
    eq(totals["exact"], True, "verdict totals exact", res)
    eq(sum(t["sends"] for t in totals["by_syscall_errno_origin"]
           if t["syscall"] == "sendto" and t["example_pid"] == pid), 3,
       "sendto() calls in the verdict's totals", res)


def test_libc_option_needs_all():
    res = run(tracer_argv("tfo", "--libc"))
    exit_code(res, 2)
    check(res.err.startswith("Error: --libc goes with --all"),
          f"--libc without --all: {res.err!r}", res)


def test_command_exit_status_is_passed_through():
    res, _, _ = trace_command(["sh", "-c", "exit 7"])
    exit_code(res, 7)


# --------------------------------------------------------------- -p PID

WAITING_SENDER = """
import socket, sys
sys.stdin.readline()
s = socket.socket()
try:
    s.sendmsg([b"x"], [], socket.MSG_FASTOPEN)
except OSError as e:
    print(e.errno)
"""


def test_attach_to_pid():
    need_root()
    with tempfile.TemporaryDirectory(prefix="tracer-test-") as tmp:
        ready = os.path.join(tmp, "ready")
        sender = subprocess.Popen(["unshare", "-n", python(), "-c",
                                   WAITING_SENDER], text=True,
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL)
        tracer = subprocess.Popen(tracer_argv("-j", "tfo", "-p",
                                              str(sender.pid), "--ready-file",
                                              ready),
                                  cwd=os.path.dirname(TRACER), text=True,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        try:
            live = wait_file(ready, tracer, 20)
            sender.communicate("go\n", timeout=10)
            exited = time.monotonic()
            out, err = tracer.communicate(timeout=10)
            lag = time.monotonic() - exited
        finally:
            for p in (sender, tracer):
                if p.poll() is None:
                    p.kill()
                    p.communicate()
        check(live, f"--ready-file never appeared\n  stderr: {err}")
        eq(tracer.returncode, 0, f"tracer -p exit status (stderr: {err})")
        note(f"tracer exited {lag:.2f} s after the process")
        events, other = split_output(out)
        eq(other, [], "non-JSON lines on stdout")
        e = find_one(events, what="send event", event="send",
                     pid=sender.pid)
        fields(e, "-p PID send", syscall="sendmsg", errno="EINVAL",
               flags=MSG_FASTOPEN, libc_flags=MSG_FASTOPEN,
               libc_function="sendmsg")


# ------------------------------------------------------ send-path hooks
#
# sock_send_length, net_dev_queue, inet_sock_set_state and netif_receive_skb
# fire for every send and frame of the machine: with -- COMMAND and -p, tracer
# attaches them only once a traced process holds a socket (tfo.bpf.c stops the
# thread at its socket() exit, tracer attaches them at that ptrace stop and
# suppresses the SIGSTOP). That the first send's SYN is still complete is
# what the -- COMMAND tests of sockets created after start check:
# test_command_all_leaves_libc_unprobed (--all), test_curl_fastopen_cookie_
# then_data, test_nonblocking_client, test_server_refusing_fastopen,
# test_answer_after_the_syscall and test_traced_server_accepts (the server's
# received SYN, from netif_receive_skb).

SEND_HOOKS = ("sock_send_length", "net_dev_queue", "inet_sock_set_state",
              "netif_receive_skb")

SOCKET_THEN_WAIT = """
import os, socket, sys, time
s = socket.socket()
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
n = 0
while True:
    n += 1
    with open(sys.argv[2], "w") as f:
        f.write(str(n))
    time.sleep(0.02)
"""


# the send-path functions' programs (tfo.bpf.c): fentry slot pairs, or one
# kprobe and one kretprobe program linked to each function
FUNCTION_HOOK_PROGS = re.compile(r"tfo_(fentry|fexit)_\d+|tfo_k(ret)?probe")


def _send_path(links):
    """The send-path hooks among bpf_links(): SEND_HOOKS' tracepoints by
    name, then one "function" per send-path function program link."""
    return (sorted(lk["tp_name"] for lk in links
                   if lk.get("tp_name") in SEND_HOOKS) +
            ["function" for lk in links
             if FUNCTION_HOOK_PROGS.fullmatch(lk["prog_name"])])


def _want_send_path(links):
    """What _send_path() lists once the hooks are attached: every
    SEND_HOOKS tracepoint the kernel has, and under fentry and kprobes
    the send-path functions' programs, in pairs."""
    want = [h for h in SEND_HOOKS
            if h != "sock_send_length" or feature("sock_send_length")[0]]
    functions = links.count("function")
    if (BACKEND or probe().get("auto_backend")) in ("fentry", "kprobe"):
        check(functions > 0 and functions % 2 == 0,
              f"send-path function programs come in pairs: {links}")
    return sorted(want) + ["function"] * functions


def _need_bpftool():
    need_root()
    if not shutil.which("bpftool"):
        skip("bpftool not installed (make deps)")


def _wait_file(path, proc):
    check(wait_file(path, proc),
          f"{path} never appeared (tracer exit {proc.poll()})")


def _read_int(path):
    with open(path) as f:
        return int(f.read() or 0)


def _runs_on(count, pidf, seconds=5):
    """Whether the SOCKET_THEN_WAIT program moves its count within @seconds
    (a stopped one never does; under emulation and load a running one may
    take a while), and its /proc state."""
    start = _read_int(count)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if _read_int(count) > start:
            return True, None
    try:
        with open(f"/proc/{_read_int(pidf)}/status") as f:
            state = [ln for ln in f if ln.startswith("State:")]
    except OSError as e:
        state = [str(e)]
    return False, "".join(state).strip()


def test_sleeping_command_holds_no_send_hooks():
    """A traced program that only sleeps: tracer holds none of the send-path
    hooks, with and without --all, on every backend (the syscall layer's
    sys_enter and sys_exit, or under fentry the socket-giving functions'
    fexit, wait for a first socket)."""
    _need_bpftool()
    raw_syscall_layer = (BACKEND or probe().get("auto_backend")) != "fentry"
    for options in ((), ("--all",)):
        with tempfile.TemporaryDirectory(prefix="tracer-test-") as tmp:
            ready = os.path.join(tmp, "ready")
            t = subprocess.Popen(
                tracer_argv("-j", "tfo", *options, "--ready-file", ready,
                            "--", "sleep", "30"),
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                _wait_file(ready, t)
                time.sleep(0.2)
                links = bpf_links(t.pid)
            finally:
                t.terminate()
                _, err = t.communicate(timeout=20)
            what = f"links of `tracer tfo {' '.join(options)} -- sleep`"
            tps = [lk.get("tp_name") for lk in links]
            if raw_syscall_layer:
                check("sys_enter" in tps and "sys_exit" in tps,
                      f"{what}: {tps}\n  stderr: {err}")
            eq(_send_path(links), [], what)


def test_send_hooks_come_with_the_first_socket():
    """The same program, once it made a socket: the send-path hooks are
    attached before socket() returned to it, and it was not left stopped."""
    _need_bpftool()
    with tempfile.TemporaryDirectory(prefix="tracer-test-") as tmp:
        ready, pidf, count = (os.path.join(tmp, n)
                              for n in ("ready", "pid", "count"))
        t = subprocess.Popen(
            in_netns(tracer_argv("-v", "-j", "tfo", "--all",
                                 "--ready-file", ready, "--", python(),
                                 "-c", SOCKET_THEN_WAIT, pidf, count)),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            _wait_file(pidf, t)
            # in_netns() execs tracer
            links = _send_path(bpf_links(t.pid))
            moved, state = _runs_on(count, pidf)
        finally:
            t.terminate()
            _, err = t.communicate(timeout=20)
    eq(links, _want_send_path(links),
       f"send-path links after socket() (stderr: {err})")
    check(moved, f"the program runs on after its socket() stop ({state})")
    check("send-path hooks attached: a traced thread got a socket" in err,
          f"-v says why they were attached: {err}")


def test_pid_holding_a_socket_gets_send_hooks_at_start():
    """-p of a process that holds a socket already: the send-path hooks are
    attached before --ready-file appears (it could send at once)."""
    _need_bpftool()
    with tempfile.TemporaryDirectory(prefix="tracer-test-") as tmp:
        ready, pidf, count = (os.path.join(tmp, n)
                              for n in ("ready", "pid", "count"))
        holder = subprocess.Popen(["unshare", "-n", python(), "-c",
                                   SOCKET_THEN_WAIT, pidf, count])
        t = None
        try:
            _wait_file(pidf, holder)
            t = subprocess.Popen(
                tracer_argv("-v", "-j", "tfo", "--all", "-p",
                            str(_read_int(pidf)), "--ready-file", ready),
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            _wait_file(ready, t)
            links = _send_path(bpf_links(t.pid))
        finally:
            holder.kill()
            holder.wait()
            err = t.communicate(timeout=20)[1] if t else ""
    eq(links, _want_send_path(links),
       f"send-path links at --ready-file (stderr: {err})")
    check("holds a socket already" in err, f"-v says why: {err}")


def test_user_sigstop_still_stops_the_traced_program():
    """A user's SIGSTOP and SIGCONT to a traced program that made a socket
    (its own SIGSTOP from tracer was suppressed) still stop and continue
    it: tracer suppresses only the stop it asked for (si_code SI_KERNEL)."""
    need_root()
    with tempfile.TemporaryDirectory(prefix="tracer-test-") as tmp:
        ready, pidf, count = (os.path.join(tmp, n)
                              for n in ("ready", "pid", "count"))
        t = subprocess.Popen(
            in_netns(tracer_argv("-j", "tfo", "--all", "--ready-file", ready,
                                 "--", python(), "-c", SOCKET_THEN_WAIT,
                                 pidf, count)),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            _wait_file(pidf, t)
            pid = _read_int(pidf)
            time.sleep(0.1)
            os.kill(pid, signal.SIGSTOP)
            deadline = time.monotonic() + 5
            while _proc_state(pid) not in ("T", "t") and \
                    time.monotonic() < deadline:
                time.sleep(0.01)
            stopped_state = _proc_state(pid)
            n = _read_int(count)
            time.sleep(0.3)
            still = _read_int(count) - n
            os.kill(pid, signal.SIGCONT)
            resumed, state = _runs_on(count, pidf)
        finally:
            t.terminate()
            _, err = t.communicate(timeout=20)
    check(stopped_state in ("T", "t"),
          f"state after the user's SIGSTOP: {stopped_state} (stderr: {err})")
    eq(still, 0, "counter steps while stopped")
    check(resumed, f"the program runs again after SIGCONT ({state})")


def _proc_state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


# ------------------------------------ Fast Open outcomes: the built-in cases
#
# Each send has an `outcome` (success, in_progress, rejected) and, when it
# sent a SYN asking for Fast Open, a `fastopen` object read from the socket
# (KERNEL-NOTES, "Fast Open outcomes"); the verdict counts attempts and
# checks them against the namespace's TcpExt counters.

REJECTING = ("EINVAL", "EOPNOTSUPP", "EISCONN")


def test_builtin_outcomes():
    """success / in_progress / rejected follow the errno, on every backend."""
    for backend, sends in backend_runs():
        for e in sends:
            what = f"case {e['case']} ({backend})"
            if e["ret"] >= 0:
                want = "success"
            elif e["errno"] in ("EINPROGRESS", "EALREADY"):
                want = "in_progress"
            else:
                want = "rejected"
            eq(e.get("outcome"), want, f"{what}: outcome")


def test_case_nonblock_sendto():
    """MSG_DONTWAIT without a cookie: EINPROGRESS after a SYN with a cookie
    request (not a rejection); with the cookie: data in the SYN, acked."""
    for backend, sends in backend_runs():
        _, events = builtin(backend)
        first = case_event(sends, "nonblock_sendto", attempt=1)
        what = f"nonblock_sendto #1 ({backend})"
        fields(first, what, errno="EINPROGRESS", outcome="in_progress",
               nonblocking=True, syn=True, syn_data=False)
        fields(first["fastopen"], what + " fastopen", cookie="request",
               data_in_syn=0, fail_reason="cookie_unavailable",
               data_acked=False, no_cookie=False, active_disabled=False)
        second = case_event(sends, "nonblock_sendto", attempt=2)
        what = f"nonblock_sendto #2 ({backend})"
        fields(second, what, errno=None, outcome="success", nonblocking=True)
        check(second["ret"] > 0, f"{what}: no bytes sent: {second}")
        fields(settled_fastopen(events, second), what + " fastopen",
               cookie="sent", data_in_syn=second["ret"], data_acked=True,
               fail_reason=None)


def test_case_server_refuses():
    for backend, sends in backend_runs():
        e = case_event(sends, "server_refuses")
        what = f"server_refuses ({backend})"
        fields(e, what, outcome="success", errno=None)
        fields(e["fastopen"], what + " fastopen", cookie="sent",
               data_acked=False, fail_reason="data_not_acked",
               answer_from="syscall")
        check(e["fastopen"]["data_in_syn"] > 0, f"{what}: no data in SYN")


def test_case_client_no_cookie():
    for backend, sends in backend_runs():
        e = case_event(sends, "client_no_cookie")
        what = f"client_no_cookie ({backend})"
        fields(e, what, outcome="success", errno=None, tfo_option=None)
        fields(e["fastopen"], what + " fastopen", cookie="none",
               no_cookie=True, data_acked=True, data_in_syn=e["ret"])


def test_case_sendto_fastopen_objects():
    """Blocking sendto: the answer is known when the call returns."""
    for backend, sends in backend_runs():
        first = case_event(sends, "sendto", attempt=1)
        fields(first["fastopen"], f"sendto #1 ({backend})", cookie="request",
               data_in_syn=0, data_acked=False,
               fail_reason="cookie_unavailable", answer_from="syscall")
        second = case_event(sends, "sendto", attempt=2)
        fields(second["fastopen"], f"sendto #2 ({backend})", cookie="sent",
               data_acked=True, fail_reason=None, answer_from="syscall")
        for case in ("sendmsg_noaddr", "client_disabled", "udp"):
            eq(case_event(sends, case)["fastopen"], None,
               f"{case} ({backend}): fastopen (no Fast Open SYN left)")


def test_builtin_verdict_fastopen_and_netstat():
    """Rejections hold rejected sends only; fastopen counts the attempts;
    the private namespace's TcpExt deltas equal BPF's own counts."""
    for backend in allowed_backends():
        res, events = builtin(backend)
        sends = find(events, event="send")
        v = events[-1]
        what = f"verdict ({backend})"
        rejected = [e for e in sends if e["outcome"] == "rejected"]
        eq(len(v["rejections"]), len(rejected), what + ": rejections")
        eq(v["malformed_records"], 0,
           what + ": ring records of a wrong size or kind (dropped)")
        check(all(r["errno"] in REJECTING for r in v["rejections"]),
              f"{what}: a rejection that is not one: {v['rejections']}")
        eq([p["case"] for p in v["in_progress"]], ["nonblock_sendto"],
           what + ": in_progress")
        for g in v["totals"]["by_syscall_errno_origin"]:
            rejection = g["errno"] in REJECTING
            check((g["layer"] is not None) == rejection,
                  f"{what}: totals row {g}: an origin layer is given for"
                  " rejections only")
        attempts = [e for e in sends if e["fastopen"]]
        acked = [e for e in attempts
                 if settled_fastopen(events, e)["data_acked"]]
        fields(v["fastopen"], what + " fastopen", attempts=len(attempts),
               data_acked=len(acked), fell_back=len(attempts) - len(acked),
               not_known=0, no_cookie=1,
               data_in_syn=len([e for e in attempts
                                if e["fastopen"]["data_in_syn"]]))
        fields(v["netstat"], what + " netstat",
               TCPFastOpenActive=len(acked), TCPFastOpenActiveFail=1,
               TCPFastOpenCookieReqd=v["fastopen"]["cookie_requests"],
               TCPFastOpenBlackhole=0)
        eq(v["netstat_disagreements"], [], what + ": netstat vs BPF")
        eq([n["baseline"] for n in v["netstat_namespaces"]], ["new"],
           what + ": the private namespace is new")


def test_builtin_text_verdict():
    res = run(tracer_argv("tfo"), timeout=60)
    exit_code(res, 0)
    for part in ("in progress (not rejections): 1 send",
                 "outcome in progress (nonblocking): SYN with a cookie "
                 "request sent, data not sent yet",
                 "data not acked (data_not_acked)",
                 "agrees with BPF"):
        contains(res.out, part, "tracer tfo text output", res)


# ------------------------- Fast Open outcomes: real programs, real servers

SERVER = os.path.join(SRC_PROGS, "tfo_server.py")
NONBLOCK = os.path.join(SRC_PROGS, "tfo_nonblock.py")


def _shell_arg(arg):
    """PORT and RPORT in an argument become the servers' ports."""
    if "PORT" not in arg:
        return shlex.quote(arg)
    return '"' + arg.replace("RPORT", "$rport").replace("PORT", "$port") + '"'


def fastopen_scenario(runs, server="", refusing=False):
    """In a fresh network namespace (lo up, net.ipv4.tcp_fastopen=3), with
    tests/progs/tfo_server.py (extra options SERVER) listening on 127.0.0.1
    (PORT) and, with REFUSING, a second one without TCP_FASTOPEN (RPORT):
    run each argv of RUNS one after the other, `tracer ... -- argv` as
    given. Returns a list of Result, one per run."""
    need_root()
    with tempfile.TemporaryDirectory(prefix="tracer-test-") as tmp:
        py = shlex.quote(python())
        script = ["ip link set lo up",
                  "echo 3 > /proc/sys/net/ipv4/tcp_fastopen",
                  f"{py} {SERVER} {tmp}/port {server} >/dev/null & srv=$!"]
        if refusing:
            script.append(f"{py} {SERVER} {tmp}/rport --no-fastopen"
                          " >/dev/null & rsrv=$!")
        script.append(f"while [ ! -s {tmp}/port ]; do sleep 0.02; done")
        script.append(f"port=$(cat {tmp}/port)")
        if refusing:
            script.append(f"while [ ! -s {tmp}/rport ]; do sleep 0.02; done")
            script.append(f"rport=$(cat {tmp}/rport)")
        for i, argv in enumerate(runs):
            cmd = " ".join(_shell_arg(a) for a in argv)
            script.append(f"{cmd} >{tmp}/out{i} 2>{tmp}/err{i};"
                          f" echo $? >{tmp}/rc{i}")
        script.append("kill $srv" + (" $rsrv" if refusing else ""))
        res = run(["unshare", "-n", "sh", "-c", "\n".join(script)],
                  timeout=90)
        exit_code(res, 0)
        results = []
        for i, argv in enumerate(runs):
            with open(f"{tmp}/out{i}") as o, open(f"{tmp}/err{i}") as e, \
                    open(f"{tmp}/rc{i}") as rc:
                results.append(Result(argv, int(rc.read()), o.read(),
                                      e.read(), 0))
        return results


def traced(*argv, json_out=True):
    return tracer_argv(*(("-j",) if json_out else ()), "tfo", "--", *argv)


def _verdict(events):
    v = find(events, event="verdict")
    check(len(v) == 1, f"expected one verdict: {events}")
    return v[0]


def need_curl():
    if not shutil.which("curl"):
        skip("curl is not installed here (make deps installs it)")
    return shutil.which("curl")


def test_curl_fastopen_to_a_closed_port():
    """curl --tcp-fastopen to a port nobody listens on: its nonblocking
    connect() is EINPROGRESS and the reset closes the socket, often before
    connect() returns (loopback). The attempt is settled as closed with no
    answer, at the call's exit or in a later fastopen_result, never left
    "not known"; closed during the call, the outcome says it will not
    complete."""
    curl = need_curl()
    need_root()
    res = run(in_netns(traced(curl, "-s", "--tcp-fastopen",
                              f"http://127.0.0.1:{CLOSED_PORT}/")),
              timeout=60)
    eq(res.code, 7, "curl's exit status (7: could not connect)", res)
    events, _ = split_output(res.out)
    conn = find_one(events, what="connect event", res=res, event="send",
                    syscall="connect")
    fields(conn, "curl's connect()", errno="EINPROGRESS",
           outcome="in_progress", fastopen_connect=True)
    fo = conn["fastopen"]
    if fo["answer_from"] is None:  # the reset came after the call
        fo = find_one(events, what="fastopen_result", res=res,
                      event="fastopen_result", fd=conn["fd"])["fastopen"]
    else:
        eq(conn["tcp_states"][-2:], ["SYN_SENT", "CLOSE"],
           "states of a connect() settled at its exit", res)
        contains(conn["outcome_detail"], "closed during the call",
                 "outcome of a connect() closed during the call", res)
    fields(fo, "curl's attempt", answer_from="state_change",
           no_answer="closed", cookie="request")
    fields(_verdict(events)["fastopen"], "verdict", attempts=1,
           no_handshake=1, not_known=0)


def test_curl_fastopen_cookie_then_data():
    """curl --tcp-fastopen (TCP_FASTOPEN_CONNECT, nonblocking) twice: first
    connect() is EINPROGRESS after a SYN with a cookie request, not a
    rejection; then connect() defers and send() puts the data in the SYN."""
    curl = need_curl()
    url = "http://127.0.0.1:PORT/"
    first, second, text = fastopen_scenario(
        [traced(curl, "-s", "--tcp-fastopen", url),
         traced(curl, "-s", "--tcp-fastopen", url),
         traced(curl, "-s", "--tcp-fastopen", url, json_out=False)])
    for res in (first, second, text):
        exit_code(res, 0)
    events, _ = split_output(first.out)
    conn = find_one(events, what="connect event", res=first, event="send",
                    syscall="connect")
    fields(conn, "curl #1 connect()", errno="EINPROGRESS",
           outcome="in_progress", nonblocking=True, fastopen_connect=True)
    fields(conn["fastopen"], "curl #1 connect() fastopen", cookie="request",
           data_in_syn=0, fail_reason="cookie_unavailable")
    write = find_one(events, what="first write", res=first, event="send",
                     first_write=True)
    fields(write, "curl #1 first write", outcome="success", fastopen=None)
    v = _verdict(events)
    fields(v, "curl #1 verdict", rejections=[], rejected_by=None)
    fields(v["fastopen"], "curl #1 verdict fastopen", attempts=1,
           cookie_requests=1, data_acked=0)
    fields(v["netstat"], "curl #1 netstat", TCPFastOpenCookieReqd=1,
           TCPFastOpenActive=0)
    eq(v["netstat_disagreements"], [], "curl #1: netstat vs BPF")

    events, _ = split_output(second.out)
    conn = find_one(events, what="connect event", res=second, event="send",
                    syscall="connect")
    fields(conn, "curl #2 connect() (deferred)", ret=0, outcome="success",
           syn=False, fastopen=None)
    write = find_one(events, what="first write", res=second, event="send",
                     first_write=True)
    fields(write, "curl #2 first write", outcome="success", syn=True)
    fields(write["fastopen"], "curl #2 fastopen", cookie="sent",
           data_in_syn=write["ret"], data_acked=True, fail_reason=None)
    v = _verdict(events)
    fields(v["fastopen"], "curl #2 verdict fastopen", attempts=1,
           data_acked=1, fell_back=0)
    fields(v["netstat"], "curl #2 netstat", TCPFastOpenActive=1,
           TCPFastOpenActiveFail=0, TCPFastOpenPassive=1)
    eq(v["netstat_disagreements"], [], "curl #2: netstat vs BPF")
    check("MSG_FASTOPEN" not in text.out.split("\nVerdict")[-1],
          "curl's verdict names MSG_FASTOPEN, which no send carried", text)
    contains(text.out, "kernel: rejected no send", "curl text verdict", text)
    contains(text.out, "data acked by the SYN-ACK: Fast Open worked",
             "curl text", text)


def _client_events(res):
    exit_code(res, 0)
    events, other = split_output(res.out)
    check(other and " pid=" in other[0], f"client output: {other}", res)
    pid = int(other[0].split("pid=")[1])
    return events, find(events, event="send", pid=pid), other[1:]


def test_nonblocking_client():
    """A nonblocking Python client: EINPROGRESS without a cookie (in
    progress, not rejected), then data in the SYN, acked."""
    (res,) = fastopen_scenario([traced(python(), NONBLOCK, "PORT", "2")])
    events, sends, lines = _client_events(res)
    eq(lines, ["sendto ret=-1 errno=EINPROGRESS", "sendto ret=18 errno=none"],
       "client's own results", res)
    eq(len(sends), 2, "send events", res)
    fields(sends[0], "1st sendto", errno="EINPROGRESS", outcome="in_progress",
           nonblocking=True)
    fields(sends[0]["fastopen"], "1st sendto fastopen", cookie="request",
           data_in_syn=0)
    fields(sends[1], "2nd sendto", ret=18, outcome="success")
    fields(sends[1]["fastopen"], "2nd sendto fastopen", cookie="sent",
           data_in_syn=18, data_acked=True)
    v = _verdict(events)
    fields(v, "verdict", rejections=[])
    eq(len(v["in_progress"]), 1, "verdict in_progress", res)
    fields(v["netstat"], "netstat", TCPFastOpenActive=1,
           TCPFastOpenCookieReqd=1)
    eq(v["netstat_disagreements"], [], "netstat vs BPF")


def test_server_refusing_fastopen():
    """With a cookie, to a server without TCP_FASTOPEN: the SYN carries the
    data, the server acks only the SYN: data_not_acked, and ActiveFail."""
    runs = [traced(python(), NONBLOCK, "PORT", "1"),
            traced(python(), NONBLOCK, "RPORT", "1")]
    _, refused = fastopen_scenario(runs, refusing=True)
    events, sends, lines = _client_events(refused)
    eq(lines, ["sendto ret=18 errno=none"], "client's own result", refused)
    e = find_one(sends, what="send event", res=refused)
    fields(e, "sendto to the refusing server", outcome="success")
    fields(e["fastopen"], "fastopen", cookie="sent", data_in_syn=18,
           data_acked=False, fail_reason="data_not_acked")
    v = _verdict(events)
    fields(v["fastopen"], "verdict fastopen", attempts=1, data_acked=0,
           fell_back=1)
    fields(v["netstat"], "netstat", TCPFastOpenActiveFail=1,
           TCPFastOpenActive=0)
    eq(v["netstat_disagreements"], [], "netstat vs BPF")


def test_answer_after_the_syscall():
    """A nonblocking send whose SYN is dropped (full accept queue) returns
    before any answer: data_acked is null at exit, and a fastopen_result
    event says later what came: the retransmitted SYN was acked alone."""
    (res,) = fastopen_scenario(
        [traced(python(), NONBLOCK, "PORT", "2", "--keep-open")],
        server="--hold")
    events, sends, lines = _client_events(res)
    eq(lines, ["sendto ret=-1 errno=EINPROGRESS", "sendto ret=18 errno=none"],
       "client's own results", res)
    e = sends[1]
    fields(e["fastopen"], "2nd sendto at exit", cookie="sent",
           data_in_syn=18, data_acked=None, answer_from=None)
    later = find_one(events, what="fastopen_result", res=res,
                     event="fastopen_result", pid=e["pid"], fd=e["fd"])
    fields(later["fastopen"], "fastopen_result", data_acked=False,
           fail_reason="syn_retransmitted", answer_from="next_frame")
    v = _verdict(events)
    fields(v["fastopen"], "verdict fastopen", attempts=2, not_known=0,
           answers_after_syscall=1, data_acked=0)
    eq(v["netstat_disagreements"], [], "netstat vs BPF")



# A route whose frames vanish: a veth pair whose far end takes nothing for
# this MAC (a fixed neighbour entry, so no ARP is needed either).
BLACKHOLE_NETNS = (
    "ip link set lo up && ip link add bh0 type veth peer name bh1 &&"
    " ip addr add 10.9.9.1/24 dev bh0 && ip link set bh0 up &&"
    " ip link set bh1 up &&"
    " ip neigh add 10.9.9.2 lladdr 02:00:00:00:00:99 dev bh0 &&"
    " sysctl -qw net.ipv4.tcp_fastopen=1"
    " net.ipv4.tcp_fastopen_blackhole_timeout_sec=3600 && exec \"$@\"")


def test_blackhole_detection():
    """A Fast Open SYN that times out (TCP_SYNCNT 1, about 3 s) sets off
    blackhole detection; the next MSG_FASTOPEN send in the namespace sends a
    plain SYN. tracer says: the first got no handshake (timed_out) and was
    not itself disabled, the second was (active_disabled), and netstat's
    ActiveFail and Blackhole moved by one, in agreement with BPF."""
    need_root()
    if not os.path.exists("/proc/sys/net/ipv4/tcp_fastopen_blackhole_"
                          "timeout_sec"):
        skip("no net.ipv4.tcp_fastopen_blackhole_timeout_sec here")
    res = run(["unshare", "-n", "sh", "-c", BLACKHOLE_NETNS, "sh",
               *traced(python(), os.path.join(SRC_PROGS, "tfo_blackhole.py"),
                       "10.9.9.2",
                       "80")], timeout=60)
    exit_code(res, 0)
    events = res.json()
    mine = {e["send"]: e["errno"] for e in events if "send" in e}
    eq(mine, {1: "ETIMEDOUT", 2: "EINPROGRESS"}, "the program's sends", res)
    sends = find(events, event="send")
    eq([e["errno"] for e in sends], ["ETIMEDOUT", "EINPROGRESS"],
       "send events", res)
    fields(sends[0]["fastopen"], "1st send (times out)", cookie="request",
           data_acked=None, no_answer="timed_out", active_disabled=False,
           answer_from="syscall")
    fields(sends[1]["fastopen"], "2nd send (Fast Open paused)",
           cookie="none", data_in_syn=0, active_disabled=True)
    v = _verdict(events)
    fields(v["fastopen"], "verdict fastopen", attempts=2, fell_back=0,
           data_acked=0, active_disabled=1)
    fields(v["netstat"], "netstat", TCPFastOpenActiveFail=1,
           TCPFastOpenBlackhole=1, TCPFastOpenActive=0)
    check(not [d for d in v["netstat_disagreements"]
               if d.startswith("TCPFastOpenActiveFail ")],
          f"ActiveFail disagrees: {v['netstat_disagreements']}", res)

# --------------------------------------------- the server side: accept events

def test_traced_server_accepts():
    """`tracer -j tfo -- SERVER`: one accept event per connection, with the
    SYN as received (cookie request, then a valid cookie with data, taken)
    and the listener's Fast Open queue; the verdict's Passive and CookieReqd
    match the traced listener's accepts."""
    need_root()
    with tempfile.TemporaryDirectory(prefix="tracer-test-") as tmp:
        py = shlex.quote(python())
        tracer = " ".join(shlex.quote(a) for a in tracer_argv(
            "-j", "tfo", "--", python(), SERVER, f"{tmp}/port"))
        script = "\n".join([
            "ip link set lo up",
            "echo 3 > /proc/sys/net/ipv4/tcp_fastopen",
            f"{tracer} >{tmp}/out 2>{tmp}/err & tr=$!",
            f"while [ ! -s {tmp}/port ]; do sleep 0.02; done",
            f"{py} {NONBLOCK} $(cat {tmp}/port) 2 >{tmp}/client",
            "sleep 0.3",
            "kill -TERM $tr; wait $tr; echo $? >" + f"{tmp}/rc"])
        res = run(["unshare", "-n", "sh", "-c", script], timeout=60)
        exit_code(res, 0)
        with open(f"{tmp}/out") as o, open(f"{tmp}/err") as e, \
                open(f"{tmp}/rc") as rc:
            traced_res = Result(["tracer", "-j", "tfo", "--", "SERVER"],
                                int(rc.read()), o.read(), e.read(), 0)
    events, _ = split_output(traced_res.out)
    accepts = find(events, event="accept")
    eq(len(accepts), 2, "accept events", traced_res)
    fields(accepts[0]["fastopen"], "1st accept", cookie="request",
           data_in_syn=0, accepted=False)
    fields(accepts[1]["fastopen"], "2nd accept", cookie="valid",
           data_in_syn=18, accepted=True, cookie_inferred=False)
    for a in accepts:
        fields(a["listener"], "listener", fastopen_queue=16,
               server_enabled=True)
    v = _verdict(events)
    fields(v["fastopen"], "verdict fastopen", accepts=2,
           accepts_with_syn_data=1)
    fields(v["netstat"], "netstat", TCPFastOpenPassive=1,
           TCPFastOpenCookieReqd=1, TCPFastOpenActive=1)
    # The client is not traced: its acked data SYN is the namespace's only
    # difference from what BPF saw, and the verdict says so.
    dis = v["netstat_disagreements"]
    check(len(dis) == 1 and dis[0].startswith("TCPFastOpenActive +1, BPF saw"
                                              " 0"),
          f"netstat vs BPF: expected only Active to differ: {dis}",
          traced_res)


def test_case_server_accepts():
    """The investigation's listener accepts what the cases left queued: a
    cookie request (no data taken), valid cookies with data taken, and the
    TFO_CLIENT_NO_COOKIE SYN taken without a cookie (0x200 on the server)."""
    for backend in allowed_backends():
        res, events = builtin(backend)
        accepts = find(events, event="accept", case="server_accepts")
        what = f"server_accepts ({backend})"
        kinds = {(a["fastopen"]["cookie"], a["fastopen"]["accepted"])
                 for a in accepts}
        for want in (("request", False), ("valid", True), ("none", True),
                     ("none", False)):
            check(want in kinds, f"{what}: no accept with cookie, accepted ="
                  f" {want}: {accepts}", res)
        for a in accepts:
            fields(a["listener"], what + " listener", fastopen_queue=16,
                   server_enabled=True)
            f = a["fastopen"]
            check(f["data_in_syn"] is not None,
                  f"{what}: the SYN of an accepted connection not seen: {a}",
                  res)
            check(f["accepted"] == (f["data_in_syn"] > 0),
                  f"{what}: data taken iff the SYN had data: {a}", res)
        v = events[-1]
        fields(v["fastopen"], what + " verdict", accepts=len(accepts),
               accepts_with_syn_data=v["netstat"]["TCPFastOpenPassive"])
