# SPDX-License-Identifier: GPL-2.0
"""The command line contract: help, usage errors, exit codes, privileges.

Exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 missing privilege or
kernel feature. Errors are one stderr line 'Error: ...', or {"error": ...} on
stdout with -j.
"""
import shlex
import shutil

from lib import (COMMANDS, check, contains, eq, exit_code, feature, find,
                 need_root, one_error_line, probe, run, skip, tracer,
                 tracer_argv)

BACKEND_ORDER = ("fentry", "kprobe", "tracepoint")


def test_help_lists_every_command():
    res = tracer("--help")
    exit_code(res, 0)
    for cmd in COMMANDS:
        contains(res.out, cmd, "tracer --help", res)


def test_command_help():
    for cmd in COMMANDS:
        res = tracer(cmd, "--help")
        exit_code(res, 0)
        check(res.out.strip(), f"tracer {cmd} --help printed nothing", res)


def test_tfo_help_lists_options():
    res = tracer("tfo", "--help")
    exit_code(res, 0)
    for opt in ("--all", "-p", "--ready-file"):
        contains(res.out, opt, "tracer tfo --help", res)


def test_version():
    res = tracer("--version")
    exit_code(res, 0)
    check(res.out.startswith("tracer "),
          "tracer --version: expected 'tracer VERSION ...'", res)


def test_no_command_is_usage_error():
    exit_code(tracer(), 2)


def test_unknown_global_option():
    res = tracer("--bogus", "tfo")
    exit_code(res, 2)
    contains(one_error_line(res), "--bogus", "error line", res)


def test_unknown_command():
    res = tracer("bogus")
    exit_code(res, 2)
    contains(one_error_line(res), "bogus", "error line", res)


def test_unknown_backend():
    res = tracer("--backend", "bogus", "tfo")
    exit_code(res, 2)
    contains(one_error_line(res), "bogus", "error line", res)


def test_json_error_on_stdout():
    res = tracer("-j", "--bogus")
    exit_code(res, 2)
    events = res.json()
    eq(len(events), 1, "JSON lines on stdout", res)
    check(isinstance(events[0].get("error"), str),
          'expected {"error": "..."} on stdout', res)
    contains(events[0]["error"], "--bogus", "JSON error", res)


def test_tfo_unknown_option():
    res = tracer("tfo", "--bogus")
    exit_code(res, 2)
    contains(one_error_line(res), "--bogus", "error line", res)


def test_tfo_no_such_pid():
    need_root()
    res = tracer("tfo", "-p", "999999999")
    exit_code(res, 2)
    contains(one_error_line(res), "999999999", "error line", res)


def _refused_backend(name):
    """--backend NAME on a kernel that refuses it: exit 3, the reason."""
    need_root()
    ok, reason = feature(name)
    if ok:
        skip(f"{name} works on this kernel (tracer -j probe)")
    res = tracer("--backend", name, "tfo", timeout=60)
    exit_code(res, 3)
    line = one_error_line(res)
    contains(line, name, "error line", res)
    if reason:
        contains(line, reason, "error line (probe's reason)", res)


def test_backend_fentry_refused():
    _refused_backend("fentry")


def test_backend_kprobe_refused():
    _refused_backend("kprobe")


def test_auto_backend_first_line_explains_choice():
    need_root()
    chosen = probe().get("auto_backend")
    check(chosen in BACKEND_ORDER, f"tracer -j probe: auto_backend {chosen!r}")
    refused = BACKEND_ORDER[:BACKEND_ORDER.index(chosen)]
    # auto's choice is the subject here: never TRACER_TEST_BACKEND's.
    res = tracer("tfo", timeout=60, force_backend=False)
    exit_code(res, 0)
    first = (res.out.splitlines() or [""])[0]
    contains(first, chosen, "first line of tracer tfo", res)
    for name in refused:
        contains(first, name, "first line of tracer tfo (refused backend)",
                 res)
        reason = feature(name)[1]
        if reason:
            contains(first, reason, f"first line of tracer tfo ({name}"
                     " refused: probe's reason)", res)


def _without_bpf_caps(cmd):
    need_root()
    if not shutil.which("capsh"):
        skip("capsh not installed (Debian package libcap2-bin)")
    script = f"exec {shlex.join(tracer_argv(cmd))}"
    res = run(["capsh", "--drop=cap_bpf,cap_perfmon,cap_sys_admin", "--",
               "-c", script])
    exit_code(res, 3)
    contains(one_error_line(res), "CAP_BPF", "error line", res)


def test_tfo_without_bpf_caps():
    _without_bpf_caps("tfo")


def test_probe_without_bpf_caps():
    _without_bpf_caps("probe")


def test_probe_json():
    need_root()
    p = probe()
    for name in ("btf", "fentry", "kprobe", "tp_btf", "tracepoint"):
        ok, reason = feature(name)
        check(ok or reason, f"probe: {name} refused without a reason: {p}")
    check(find([p], event="probe"), f"probe event: {p}")
