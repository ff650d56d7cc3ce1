# SPDX-License-Identifier: GPL-2.0
"""`tracer -j tfo`: the built-in investigation, `-- COMMAND` and `-p PID`.

JSON contract: a "start" event (backend, reason), one "send" event per traced
send, a "verdict" event last. MSG_FASTOPEN is 0x20000000. What each built-in
case does on Linux is in shared KERNEL-NOTES.md ("When a MSG_FASTOPEN send
fails").
"""
import os
import subprocess
import tempfile
import time

from lib import (MSG_FASTOPEN, SRC_PROGS, TRACER, check, eq, exit_code, fields,
                 find, find_one, in_netns, need_root, need_tracer, note, probe,
                 prog, python, run, split_output)

BACKENDS = ("fentry", "kprobe", "tracepoint")
CASES = ("sendto", "sendmsg_noaddr", "sendmsg_addr", "send", "connect_sendmsg",
         "raw_sendmsg_noaddr", "client_disabled", "connected", "udp",
         "ipv6_sendmsg_noaddr", "sendmsg_scm_rights", "fastopen_connect")
SEND_KEYS = ("case", "pid", "comm", "syscall", "flags", "libc_flags",
             "libc_function", "addrlen", "ret", "errno", "origin",
             "tcp_states", "syn", "syn_data", "backend")
CLOSED_PORT = 47001  # nothing listens on it in a fresh network namespace


# ------------------------------------------------ the built-in investigation

_builtin = None


def _sysctl(name):
    with open("/proc/sys/" + name.replace(".", "/")) as f:
        return f.read().strip()


def _netns_list():
    return run(["ip", "netns", "list"]).out


def builtin():
    """Run `tracer -j tfo` once; every test of the investigation reads it."""
    global _builtin
    need_root()
    if _builtin is None:
        before = (_sysctl("net.ipv4.tcp_fastopen"), _netns_list())
        res = run([need_tracer(), "-j", "tfo"], timeout=60)
        after = (_sysctl("net.ipv4.tcp_fastopen"), _netns_list())
        _builtin = res, before, after
    res = _builtin[0]
    exit_code(res, 0)
    events = res.json()
    check(events, "no JSON lines on stdout", res)
    return res, events


def start_event():
    res, events = builtin()
    eq(events[0].get("event"), "start", "first event", res)
    return events[0]


def sends():
    return find(builtin()[1], event="send")


def case_event(case, **match):
    return find_one(sends(), what="send event", case=case, **match)


def test_builtin_exits_ok():
    builtin()


def test_builtin_wall_time():
    res, _ = builtin()
    note(f"tracer -j tfo took {res.seconds:.2f} s (target < 2 s)")
    check(res.seconds < 5, f"took {res.seconds:.2f} s, expected < 5 s")


def test_builtin_leaves_nothing_behind():
    builtin()
    _, before, after = _builtin
    eq(after[0], before[0], "net.ipv4.tcp_fastopen after the run")
    eq(after[1], before[1], "`ip netns list` after the run")


def test_start_event():
    start = start_event()
    check(start.get("backend") in BACKENDS,
          f"start.backend: expected one of {BACKENDS}, got {start}")
    check(isinstance(start.get("reason"), str) and start["reason"],
          f"start.reason: expected a text, got {start}")
    eq(start["backend"], probe().get("auto_backend"),
       "start.backend vs tracer -j probe's auto_backend")


def test_verdict_event_last():
    res, events = builtin()
    verdict = events[-1]
    eq(verdict.get("event"), "verdict", "last event", res)
    fields(verdict, "verdict", libc_changes_flags=False)


def test_all_cases_present():
    seen = {e.get("case") for e in sends()}
    missing = [c for c in CASES if c not in seen]
    check(not missing, f"cases missing: {missing}; seen: {sorted(seen, key=str)}")


def test_send_events_have_every_field():
    backend = start_event()["backend"]
    for e in sends():
        missing = [k for k in SEND_KEYS if k not in e]
        check(not missing, f"send event lacks {missing}: {e}")
        eq(e["backend"], backend, f"case {e['case']}: backend")
        check(isinstance(e["tcp_states"], list),
              f"case {e['case']}: tcp_states is not a list: {e}")


def check_send(e, syscall, errno, libc_function=None, origin_function=None):
    """Checks every case shares: result, libc vs syscall flags, origin."""
    what = f"case {e['case']}"
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
    else:
        socket_fn = "inet6_sendmsg" if "ipv6" in e["case"] else "inet_sendmsg"
        fields(origin, f"{what}: origin on the tracepoint backend",
               layer="socket", function=socket_fn)


def _sendto_attempt(n, syn_data):
    e = case_event("sendto", attempt=n)
    check_send(e, "sendto", None, "sendto")
    check(e["flags"] & MSG_FASTOPEN, f"sendto: no MSG_FASTOPEN in flags: {e}")
    check(e["ret"] > 0, f"sendto attempt {n}: expected bytes sent: {e}")
    fields(e, f"sendto attempt {n}", syn=True, syn_data=syn_data)
    for state in ("SYN_SENT", "ESTABLISHED"):
        check(state in e["tcp_states"],
              f"sendto attempt {n}: {state} not in tcp_states {e['tcp_states']}")


def test_case_sendto_cookie_request():
    _sendto_attempt(1, False)


def test_case_sendto_with_cookie():
    _sendto_attempt(2, True)


def _fastopen_case(case, syscall, errno, libc_function, origin_function=None):
    e = case_event(case, syscall=syscall)
    eq(e["flags"] & MSG_FASTOPEN, MSG_FASTOPEN, f"case {case}: flags")
    check_send(e, syscall, errno, libc_function, origin_function)
    return e


def test_case_sendmsg_noaddr():
    e = _fastopen_case("sendmsg_noaddr", "sendmsg", "EINVAL", "sendmsg",
                       "tcp_v4_connect")
    eq(e["addrlen"], 0, "sendmsg_noaddr: addrlen")


def test_case_sendmsg_addr():
    e = _fastopen_case("sendmsg_addr", "sendmsg", None, "sendmsg")
    check(e["ret"] > 0, f"sendmsg_addr: expected bytes sent: {e}")


def test_case_send():
    # glibc's send() is sendto(fd, buf, len, flags, NULL, 0).
    e = _fastopen_case("send", "sendto", "EINVAL", "send")
    eq(e["addrlen"], 0, "send: addrlen")


def test_case_connect_sendmsg():
    e = case_event("connect_sendmsg", syscall="sendmsg")
    fields(e, "connect_sendmsg", flags=0)
    check_send(e, "sendmsg", None, "sendmsg")


def test_case_raw_sendmsg_noaddr():
    e = _fastopen_case("raw_sendmsg_noaddr", "sendmsg", "EINVAL", None)
    fields(e, "raw_sendmsg_noaddr (no libc wrapper)", libc_flags=None,
           libc_function=None)


def test_case_client_disabled():
    _fastopen_case("client_disabled", "sendto", "EOPNOTSUPP", "sendto")


def test_case_connected():
    _fastopen_case("connected", "sendto", "EISCONN", "sendto")


def test_case_udp():
    e = _fastopen_case("udp", "sendto", None, "sendto")
    check(e["ret"] > 0, f"udp: expected bytes sent: {e}")


def test_case_ipv6_sendmsg_noaddr():
    _fastopen_case("ipv6_sendmsg_noaddr", "sendmsg", "EINVAL", "sendmsg",
                   "tcp_v6_connect")


def test_case_sendmsg_scm_rights():
    _fastopen_case("sendmsg_scm_rights", "sendmsg", "EINVAL", "sendmsg")


def test_case_fastopen_connect():
    connect = case_event("fastopen_connect", syscall="connect")
    fields(connect, "fastopen_connect connect()", ret=0, errno=None)
    write = case_event("fastopen_connect", syscall="write")
    check_send(write, "write", None)
    check(write["ret"] > 0, f"fastopen_connect write(): no bytes: {write}")
    fields(write, "fastopen_connect write()", syn_data=True)


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
    res = run(in_netns([need_tracer(), "-j", "tfo", *options, "--", *argv]),
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


def test_command_all_shows_sends_without_fastopen():
    _, _, mine = check_client([prog("tfo_client")], "--all")
    check(find(mine, syscall="sendto", flags=0),
          f"--all: no event for the client's UDP sendto with flags 0: {mine}")


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


def _wait_for(path, tracer_proc, seconds):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        if tracer_proc.poll() is not None:
            return False
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_attach_to_pid():
    need_root()
    with tempfile.TemporaryDirectory(prefix="tracer-test-") as tmp:
        ready = os.path.join(tmp, "ready")
        sender = subprocess.Popen(["unshare", "-n", python(), "-c",
                                   WAITING_SENDER], text=True,
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL)
        tracer = subprocess.Popen([need_tracer(), "-j", "tfo", "-p",
                                   str(sender.pid), "--ready-file", ready],
                                  cwd=os.path.dirname(TRACER), text=True,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        try:
            live = _wait_for(ready, tracer, 20)
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
