# SPDX-License-Identifier: GPL-2.0
"""The syscall layer under the fentry backend: fentry/fexit on the functions
behind the syscalls tfo and pktleak follow (__sys_sendto, __sys_socket, ...),
and no raw sys_enter/sys_exit link, which would run for every syscall of
every process.

Judged by tracer's own links: the link ids in /proc/PID/fdinfo of the running
tracer (as bench/floor.c --list reads them), described by `bpftool link`.
Runs where fentry loads (the kernel-matrix guests), under the fentry backend
or with none chosen.
"""
import os
import signal
import subprocess
import tempfile

from lib import (BACKEND, bpf_links, check, eq, feature, find, in_netns,
                 need_root, note, python, skip, split_output, tracer_argv,
                 wait_file)

RAW_SYSCALL_TPS = ("sys_enter", "sys_exit")


def need_fentry():
    need_root()
    if BACKEND and BACKEND != "fentry":
        skip(f"fentry backend only (TRACER_TEST_BACKEND={BACKEND})")
    ok, why = feature("fentry")
    if not ok:
        skip(f"fentry refused on this kernel: {why}")


def describe(lk):
    """One line per link, as `bpftool link` prints its kind and hook."""
    hook = lk.get("tp_name") or lk.get("attach_type") or ""
    return f"{lk.get('id')}: {lk.get('type')} {hook} prog {lk['prog_name']}"


def check_links(command, want_progs, traced=None):
    """Run `tracer -j -v --backend fentry COMMAND --ready-file R [-- ARGV]`,
    read its links while it runs, stop it; return its JSON events. With
    @traced(done), ARGV is what it returns: a command that creates the file
    @done when it has done its part, waited for before the tracer stops."""
    with tempfile.TemporaryDirectory(prefix="tracer-test-") as tmp:
        ready = os.path.join(tmp, "ready")
        done = os.path.join(tmp, "done")
        traced_argv = ["--", *traced(done)] if traced else []
        argv = tracer_argv("-j", "-v", "--backend", "fentry", *command,
                           "--ready-file", ready, *traced_argv)
        proc = subprocess.Popen(argv, text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE,
                                start_new_session=True)
        try:
            live = wait_file(ready, proc, 60)
            links = bpf_links(proc.pid) if live else []
            finished = not traced or (live and wait_file(done, proc, 60))
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, err = proc.communicate()
    check(live, f"--ready-file never appeared\n  stderr: {err}")
    check(finished, f"the traced command never finished\n  stderr: {err}")
    for lk in links:
        note(describe(lk))
    raw = [describe(lk) for lk in links
           if lk.get("tp_name") in RAW_SYSCALL_TPS]
    eq(raw, [], "raw sys_enter/sys_exit links under --backend fentry")
    progs = {lk["prog_name"] for lk in links}
    eq(sorted(p for p in want_progs if p not in progs), [],
       "syscall-layer fentry/fexit programs not attached")
    check("syscall layer: fentry/fexit" in err,
          f"-v does not say the syscall layer is fentry\n  stderr: {err}")
    events, _ = split_output(out)
    return events


def test_fentry_tfo_has_no_raw_syscall_tracepoints():
    need_fentry()
    # The traced command sends once tracing is live (tracer starts it after
    # attaching): the send is still seen, from __sys_sendto's programs.
    sender = ("import socket, sys, time\n"
              "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
              "s.sendto(b'x', ('127.0.0.1', 9))\n"
              "open(sys.argv[1], 'w').close()\n"
              "time.sleep(60)\n")
    events = check_links(
        ["tfo", "--all"],
        ["tfo_sys_sendto", "tfo_sys_sendto_ret", "tfo_sys_sendmsg",
         "tfo_sys_sendmsg_ret", "tfo_sys_sendmmsg", "tfo_sys_sendmmsg_ret",
         "tfo_sys_connect", "tfo_sys_connect_ret", "tfo_sys_write",
         "tfo_sys_write_ret", "tfo_sys_accept", "tfo_sys_accept_ret",
         "tfo_sys_listen_ret",
         # the send-path hooks wait for the command's first socket
         "tfo_gives_socket", "tfo_gives_socketpair", "tfo_gives_accept4",
         "tfo_gives_recvmsg", "tfo_gives_recvmmsg",
         "tfo_gives_pidfd_getfd"],
        lambda done: in_netns([python(), "-c", sender, done]))
    sends = find(events, event="send", syscall="sendto", family="AF_INET")
    check(len(sends) == 1, "expected the command's one sendto() to "
          f"127.0.0.1 as a send event: {events}")
    eq(sends[0]["ret"], 1, "its return value")


def test_fentry_pktleak_has_no_raw_syscall_tracepoints():
    need_fentry()
    check_links(["pktleak", "--all"],
                ["pkt_sys_socket", "pkt_sys_socket_ret", "pkt_sys_bind",
                 "pkt_sys_bind_ret", "pkt_sys_setsockopt",
                 "pkt_sys_setsockopt_ret", "pkt_sys_close"])
