# SPDX-License-Identifier: GPL-2.0
"""The command line contract: help, usage errors, exit codes, privileges.

Exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 missing privilege or
kernel feature. Errors are one stderr line 'Error: ...', or {"error": ...} on
stdout with -j.
"""
import os
import re
import shlex
import shutil
import tempfile

from lib import (COMMANDS, ROOT, TRACER, check, contains, eq, exit_code,
                 feature, find, need_root, one_error_line, probe, run, skip,
                 split_output, tracer, tracer_argv)
from test_pktleak import need_pktleak

BACKEND_ORDER = ("fentry", "kprobe", "tracepoint")
# The command line is the subject here, not the backend: once per guest
# kernel in the matrix (tests/run.py).
BACKEND_INDEPENDENT = True


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


# ------------------------------------------------- what users of a system
# tool expect (issue 13): man pages, completion, global options anywhere,
# -o FILE, exit codes 126/127, user CFLAGS, installation.

DOC = os.path.join(ROOT, "doc")
COMPLETION = os.path.join(ROOT, "completion", "tracer.bash")
MAN_PAGES = {None: "tracer", "tfo": "tracer-tfo",
             "pktleak": "tracer-pktleak", "probe": "tracer-probe"}
# The options each page must have, besides agreeing with --help. Merging a
# command's new option means adding it here, to its page and to --help.
KNOWN_OPTIONS = {
    None: {"-j": None, "--json": None, "-v": None, "--verbose": None,
           "--backend": "NAME", "-o": "FILE", "--output": "FILE",
           "-h": None, "--help": None, "-V": None, "--version": None},
    "tfo": {"-p": "PID", "--pid": "PID", "-a": None, "--all": None,
            "--libc": None, "--ready-file": "PATH", "-h": None,
            "--help": None},
    "pktleak": {"-r": "N", "--rate": "N", "--target-rate": "N",
                "-g": "MS", "--gap": "MS", "-n": "N", "--repeat": "N",
                "-W": "MS", "--window": "MS", "--filter-gap": "MS",
                "-w": "FILE", "--write": "FILE", "--snaplen": "N",
                "-s": "LIST", "--strategy": "LIST", "-i": "IFACE",
                "--interface": "IFACE", "-p": "PID", "--pid": "PID",
                "-a": None, "--all": None, "-d": "S", "--duration": "S",
                "--ready-file": "PATH", "-h": None, "--help": None},
    "probe": {"-h": None, "--help": None},
}
# One option line: "-x, --long METAVAR", "--long METAVAR" or "-x".
OPTION_LINE = re.compile(
    r"(?P<short>-[A-Za-z0-9])?(?:, )?(?P<long>--[A-Za-z0-9][A-Za-z0-9-]*)?"
    r"(?: (?P<arg>[A-Z][A-Z]*))?(?:  |$)")


def _need(*tools, why="the VM guests carry no build or documentation tools"):
    for t in tools:
        if not shutil.which(t):
            skip(f"{t} not installed ({why})")


def _options(lines, indents):
    """{option: METAVAR or None} from the option lines, those that start
    with '-' after a number of spaces in @indents."""
    found = {}
    for line in lines:
        body = line.lstrip(" ")
        if len(line) - len(body) not in indents or not body.startswith("-"):
            continue
        m = OPTION_LINE.match(body)
        if not m or not (m["short"] or m["long"]):
            continue
        for name in (m["short"], m["long"]):
            if name:
                found[name] = m["arg"]
    return found


def _help_options(cmd):
    res = tracer(*([cmd] if cmd else []), "--help")
    exit_code(res, 0)
    return _options(res.out.splitlines(), (2, 6)), res


def _rendered_man(page):
    """doc/PAGE.8.scd through scdoc and man -l, as plain text."""
    src = os.path.join(DOC, f"{page}.8.scd")
    if not os.path.exists(src):
        skip(f"{src} not in this tree (the VM guests carry tests/ only)")
    _need("scdoc", "man")
    with open(src) as f:
        roff = run(["scdoc"], input=f.read())
    exit_code(roff, 0)
    res = run(["man", "-l", "-"], input=roff.out,
              env=dict(os.environ, MANWIDTH="200", MAN_KEEP_FORMATTING=""))
    exit_code(res, 0)
    return res


def _man_options(page):
    """{option: METAVAR} from the OPTIONS section of the rendered page."""
    res = _rendered_man(page)
    lines, section = [], None
    for line in res.out.splitlines():
        if line and not line[0].isspace():
            section = line.strip()
        elif section == "OPTIONS":
            lines.append(line)
    check(lines, f"{page}(8): no OPTIONS section", res)
    return _options(lines, (7,)), res


def test_help_and_man_page_agree():
    """Every option of `tracer [CMD] --help` is in the page's OPTIONS, with
    the same METAVAR, and the page has no option --help lacks."""
    for cmd, page in MAN_PAGES.items():
        helped, res = _help_options(cmd)
        documented, _ = _man_options(page)
        what = f"tracer {cmd or ''} --help vs {page}(8) OPTIONS"
        for name, arg in helped.items():
            check(name in documented,
                  f"{what}: {name} is in --help, not in the man page", res)
            eq(documented[name], arg, f"{what}: {name}'s value", res)
        for name in documented:
            check(name in helped,
                  f"{what}: {name} is in the man page, not in --help", res)
        for name, arg in KNOWN_OPTIONS[cmd].items():
            eq(helped.get(name, "<missing>"), arg,
               f"tracer {cmd or ''} --help: option {name}", res)


def test_man_pages_have_their_sections():
    for page in MAN_PAGES.values():
        res = _rendered_man(page)
        heads = [line.strip() for line in res.out.splitlines()
                 if line and not line[0].isspace()]
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS",
                        "OUTPUT", "EXIT STATUS", "EXAMPLES", "SEE ALSO"):
            check(section in heads, f"{page}(8): no {section} section", res)
        check("126" in res.out and "127" in res.out or page == "tracer-probe",
              f"{page}(8): exit status 126 and 127 not documented", res)


def test_make_install_destdir():
    """make install DESTDIR=... PREFIX=/usr: binary, 4 man pages that
    render with man -l, and the bash completion."""
    _need("make", "scdoc", "man")
    dest = tempfile.mkdtemp(prefix="tracer-install.")
    try:
        res = run(["make", "--no-print-directory", "install",
                   f"DESTDIR={dest}", "PREFIX=/usr"], timeout=300)
        exit_code(res, 0)
        binary = os.path.join(dest, "usr/sbin/tracer")
        check(os.access(binary, os.X_OK), f"{binary} not installed", res)
        ver = run([binary, "--version"])
        exit_code(ver, 0)
        for page in MAN_PAGES.values():
            path = os.path.join(dest, "usr/share/man/man8", f"{page}.8")
            check(os.path.exists(path), f"{path} not installed", res)
            man = run(["man", "-l", path], env=dict(os.environ, MANWIDTH="80"))
            exit_code(man, 0)
            eq(man.err, "", f"man -l {page}.8: stderr", man)
            contains(man.out, f"{page} - ", f"man -l {page}.8: NAME", man)
        comp = os.path.join(dest,
                            "usr/share/bash-completion/completions/tracer")
        check(os.path.exists(comp), f"{comp} not installed", res)
        eq(sorted(_complete(["tracer", "p"], script=comp,
                            path=os.path.dirname(binary))),
           ["pktleak", "probe"], "installed completion of `tracer p`")
    finally:
        shutil.rmtree(dest)


def _complete(words, script=COMPLETION, path=None):
    """COMPREPLY of the completion function for @words (the last one is
    being completed), in a real bash that sourced @script."""
    if not os.path.exists(script):
        skip(f"{script} not in this tree (the VM guests carry tests/ only)")
    _need("bash", why="the completion is a bash script")
    code = (f"source {shlex.quote(script)} || exit 9\n"
            f"COMP_WORDS=({shlex.join(words)})\n"
            f"COMP_CWORD={len(words) - 1}\n"
            "COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}\n"
            "_tracer || exit 8\n"
            "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    env = dict(os.environ)
    if path:
        env["PATH"] = path + ":" + env["PATH"]
    res = run(["bash", "--norc", "--noprofile", "-c", code], env=env)
    exit_code(res, 0)
    return [w for w in res.out.splitlines() if w]


def test_completion():
    def words(*w):
        return sorted(_complete([TRACER, *w]))

    eq(words("p"), ["pktleak", "probe"], "completion of `tracer p`")
    eq(words(""), sorted(["tfo", "pktleak", "probe"]),
       "completion of `tracer `")
    eq(words("--backend", ""), ["auto", "fentry", "kprobe", "tracepoint"],
       "completion of --backend")
    eq(words("-j", "tfo", "--backend=t"), ["tracepoint"],
       "completion of --backend= after the command")
    check("lo" in words("pktleak", "-i", ""), "-i: lo not offered")
    eq(words("pktleak", "-i", ""), sorted(os.listdir("/sys/class/net")),
       "completion of -i (interfaces)")
    check(str(os.getpid()) in words("tfo", "-p", ""),
          f"-p: this test's pid {os.getpid()} not offered")
    eq(words("pktleak", "-s", ""), ["1", "2", "3", "4", "5", "6"],
       "completion of -s (strategy numbers)")
    eq(words("pktleak", "-s", "1,3,"), ["1,3,2", "1,3,4", "1,3,5", "1,3,6"],
       "completion of -s 1,3, (the numbers not listed yet)")
    opts = words("tfo", "-j", "--")
    for o in ("--all", "--pid", "--json", "--output", "--backend", "--"):
        check(o in opts, f"`tracer tfo -j --`: {o} not offered: {opts}")
    check("--version" not in opts, "--version offered after the command")
    check("--rate" in words("-v", "pktl", "--r"), "pktleak's --rate")
    check("sh" in words("tfo", "-j", "--", "sh"), "a program after --")


def test_global_options_after_command():
    """-j, -v, --backend and -o work after the command (before --)."""
    res = tracer("tfo", "--bogus", "-j")
    exit_code(res, 2)
    events = res.json()
    check(len(events) == 1 and "--bogus" in events[0].get("error", ""),
          "tracer tfo --bogus -j: expected one JSON error", res)
    res = tracer("probe", "--backend", "bogus")
    exit_code(res, 2)
    contains(one_error_line(res), "bogus", "error line", res)
    need_root()
    res = tracer("tfo", "-j", "--", "true", timeout=60)
    exit_code(res, 0)
    events = res.json()
    check(find(events, event="start") and find(events, event="verdict"),
          "tracer tfo -j -- true: start and verdict events", res)
    res = tracer("probe", "-j")
    exit_code(res, 0)
    check(find(res.json(), event="probe"), "tracer probe -j", res)
    need_pktleak()
    res = tracer("pktleak", "-v", "--all", "-j", "--duration", "1",
                 timeout=60)
    exit_code(res, 0)
    res.json()
    contains(res.err, "backend", "tracer pktleak -v --all: -v's stderr", res)


def test_global_option_in_cluster_with_value():
    """-jr5: -j is tracer's, -r takes 5; the next argument is not -r's."""
    res = tracer("pktleak", "-jr5", "-v", "--help")
    exit_code(res, 0)
    contains(res.out, "Usage: tracer", "pktleak -jr5 -v --help", res)
    res = tracer("tfo", "-jp1", "--bogus")
    exit_code(res, 2)
    events = res.json()
    check(len(events) == 1 and "--bogus" in events[0].get("error", ""),
          "tracer tfo -jp1 --bogus: the error names --bogus", res)


def test_dash_in_option_group_refused():
    """-v-all is not --all: '-' is no option letter, exit 2."""
    for args in (["tfo", "-v-all"], ["-v", "pktleak", "-vv-all"]):
        res = tracer(*args)
        exit_code(res, 2)
        contains(one_error_line(res), "unknown option '-'",
                 f"tracer {' '.join(args)}", res)


def test_nothing_after_dashdash_is_tracers():
    need_root()
    res = tracer("tfo", "--", "sh", "-c", 'echo "$@"', "sh", "-j", "-v",
                 "-o", "x", timeout=60)
    exit_code(res, 0)
    check("-j -v -o x" in res.out.splitlines(),
          "the program's -j -v -o x were not passed through", res)
    check(res.out.startswith("tracer tfo: backend"),
          "tracer took -j from after --: not in text mode", res)
    eq(res.err, "", "stderr (no -v taken)", res)


def test_output_file():
    """tracer -j -o F tfo -- CMD: CMD's stdout and stderr stay tracer's
    stdout and stderr; F holds JSON lines only."""
    need_root()
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "events")
        res = tracer("-j", "-o", out, "tfo", "--", "echo", "hi",
                     timeout=60)
        exit_code(res, 0)
        eq(res.out, "hi\n", "stdout: only the command's output", res)
        with open(out) as f:
            text = f.read()
        events, other = split_output(text)
        eq(other, [], f"{out}: non-JSON lines", res)
        check(find(events, event="start") and find(events, event="verdict"),
              f"{out}: start and verdict events: {text!r}", res)
        # Text mode, after the command, the command's stderr, its status.
        res = tracer("tfo", "--output", out, "--", "sh", "-c",
                     "echo out; echo err >&2; exit 3", timeout=60)
        exit_code(res, 3)
        eq(res.out, "out\n", "stdout: only the command's output", res)
        eq(res.err, "err\n", "stderr: only the command's", res)
        with open(out) as f:
            contains(f.readline(), "backend", f"{out}: first line", res)


def test_output_file_help():
    """`-o FILE CMD --help`: the help is for the reader, on stdout; no FILE
    is left behind for it."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "events")
        for cmd in ("tfo", "pktleak", "probe"):
            res = tracer("-o", out, cmd, "--help")
            exit_code(res, 0)
            contains(res.out, f"{cmd}", "help on stdout", res)
            check(res.out.startswith("Usage:"), f"{cmd}: help on stdout",
                  res)
            check(not os.path.exists(out), f"{cmd} --help left {out}", res)


def test_output_file_errors():
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "events")
        # With -j, the error object goes to FILE, the Error: line to stderr.
        res = tracer("-j", "tfo", "-o", out, "--bogus")
        exit_code(res, 2)
        eq(res.out, "", "stdout", res)
        contains(one_error_line(res), "--bogus", "error line", res)
        with open(out) as f:
            events, other = split_output(f.read())
        check(len(events) == 1 and not other and
              "--bogus" in events[0].get("error", ""),
              f"{out}: one JSON error object", res)
        res = tracer("tfo", "-o", os.path.join(d, "no", "such", "file"))
        exit_code(res, 1)
        contains(one_error_line(res), "no/such/file", "error line", res)
        res = tracer("tfo", "-o")
        exit_code(res, 2)
        contains(one_error_line(res), "-o", "error line", res)


def _cannot_run(cmd):
    need_root()
    if cmd == "pktleak":
        need_pktleak()
    with tempfile.TemporaryDirectory() as d:
        plain = os.path.join(d, "not-executable")
        with open(plain, "w") as f:
            f.write("#!/bin/sh\necho ran\n")
        missing = os.path.join(d, "missing")
        for program, code in ((missing, 127), ("no-such-command-x", 127),
                              (plain, 126), (d, 126)):
            res = tracer(cmd, "--", program, timeout=60)
            exit_code(res, code)
            contains(one_error_line(res), program, "error line", res)
            check("ran" not in res.out, "the program ran", res)
        res = tracer("-j", cmd, "--", missing, timeout=60)
        exit_code(res, 127)
        errors = [e for e in res.json() if "error" in e]
        check(len(errors) == 1 and errors[0].get("exit") == 127,
              "tracer -j: one error object with exit 127", res)


def test_tfo_command_not_found_127_not_executable_126():
    _cannot_run("tfo")


def test_pktleak_command_not_found_127_not_executable_126():
    _cannot_run("pktleak")


def test_make_with_user_cflags():
    """make CFLAGS='-O1 -g' builds: the user's flags are added to tracer's
    (include paths, warnings), after them."""
    _need("make", "clang", "bpftool")
    out = tempfile.mkdtemp(prefix="tracer-cflags.")
    try:
        res = run(["make", "--no-print-directory", "-j2", "V=1",
                   f"OUTPUT={out}", f"TRACER_BIN={out}/tracer",
                   "CFLAGS=-O1 -g", f"{out}/tracer"], timeout=600)
        exit_code(res, 0)
        cc = [line for line in res.out.splitlines()
              if "-c user/main.c" in line]
        check(cc, "V=1: no compile line of user/main.c", res)
        for flag in ("-Iuser", "-Werror", "-O1 -g"):
            contains(cc[0], flag, "compile line of user/main.c", res)
        check(cc[0].index("-Werror") < cc[0].index("-O1 -g"),
              f"user CFLAGS not after tracer's: {cc[0]}", res)
        exit_code(run([f"{out}/tracer", "--version"]), 0)
    finally:
        shutil.rmtree(out)


def test_user_namespace_refused():
    """In a user namespace (a rootless container), capabilities do not reach
    bpf(): exit 3 with one line saying so, not a list of EPERMs."""
    need_root()
    _need("unshare", why="Debian package util-linux")
    for cmd in ("tfo", "probe"):
        res = run(["unshare", "--user", "--map-root-user",
                   *tracer_argv(cmd)])
        exit_code(res, 3)
        contains(one_error_line(res), "user namespace", "error line", res)
