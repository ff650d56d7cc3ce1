#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run tracer's tests: every test_* function of every tests/test_*.py.

    python3 tests/run.py [FILTER]

FILTER keeps the tests whose name (module.function) contains it. One line per
test (PASS name / FAIL name: reason / SKIP name: reason), then the totals.
A module that sets BACKEND_INDEPENDENT runs under one backend only in the
kernel-matrix guests (lib.once_per_guest()).
Exit status 1 if a test failed or none matched, else 0.

Last, run.tree_unchanged checks that the tests left the git checkout as it
was: no tracked file changed, no file added (git status, and the content of
every change when the tree was not clean at the start).
"""
import hashlib
import importlib
import os
import subprocess
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from lib import Skip, once_per_guest  # noqa: E402


def discover(pattern):
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        module = importlib.import_module(fname[:-3])
        # A copy: a warning a test raises adds __warningregistry__ to it.
        for name, func in list(vars(module).items()):
            full = f"{module.__name__}.{name}"
            if (name.startswith("test_") and callable(func)
                    and getattr(func, "__module__", None) == module.__name__
                    and pattern in full):
                yield full, guarded(module, func)


def guarded(module, func):
    """@func, skipped where its module's tests need not run again."""
    if not getattr(module, "BACKEND_INDEPENDENT", False):
        return func

    def run():
        once_per_guest(f"{module.__name__} (BACKEND_INDEPENDENT)")
        func()
    return run


def run_one(name, func):
    """Run one test; return its status and a one-line (or indented) reason."""
    try:
        func()
    except Skip as e:
        return "SKIP", str(e)
    except AssertionError as e:
        return "FAIL", str(e) or "assertion failed"
    except Exception as e:  # a bug in the test or an unexpected error
        tb = traceback.extract_tb(e.__traceback__)[-1]
        where = f"{os.path.basename(tb.filename)}:{tb.lineno}"
        return "FAIL", f"{type(e).__name__} at {where}: {e}"
    return "PASS", None


def tree_state():
    """The checkout's state: git status, and a digest of the content of
    every change (diff against HEAD, untracked files); None if ROOT is not
    a git checkout (the VM guests' copy) or git is missing."""
    root = os.path.dirname(HERE)

    def git(*args):
        return subprocess.run(["git", "-C", root, *args], check=True,
                              capture_output=True).stdout

    try:
        if git("rev-parse", "--show-toplevel").strip() != root.encode():
            return None
        status = git("status", "--porcelain", "--untracked-files=all")
    except (OSError, subprocess.CalledProcessError):
        return None
    digest = hashlib.sha256(git("diff", "HEAD", "--binary"))
    for line in status.decode().splitlines():
        path = os.path.join(root, line[3:])
        if line.startswith("??") and os.path.isfile(path):
            with open(path, "rb") as f:
                digest.update(f.read())
    return status.decode(), digest.hexdigest()


def check_tree(before):
    """run.tree_unchanged: status and reason, from the state at start."""
    if before is None:
        return "SKIP", "not a git checkout (the VM guests' copy has no .git)"
    after = tree_state()
    if after == before:
        return "PASS", None
    if not before[0]:
        return "FAIL", ("the tests changed the checkout (git status):\n"
                        + after[0].rstrip())
    return "FAIL", ("the tests changed the checkout; git status before:\n"
                    f"{before[0].rstrip()}\nafter:\n{after[0].rstrip()}")


def main(argv):
    pattern = argv[1] if len(argv) > 1 else ""
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    start = time.monotonic()
    before = tree_state()
    for name, func in discover(pattern):
        status, reason = run_one(name, func)
        counts[status] += 1
        print(f"{status} {name}" + (f": {reason}" if reason else ""),
              flush=True)
    if sum(counts.values()):
        status, reason = check_tree(before)
        counts[status] += 1
        print(f"{status} run.tree_unchanged" + (f": {reason}" if reason
                                                 else ""), flush=True)
    else:
        print(f"no test matches {pattern!r}", file=sys.stderr)
    print(f"# {time.monotonic() - start:.1f} s", file=sys.stderr)
    summary = f"{counts['PASS']} passed, {counts['FAIL']} failed"
    if counts["SKIP"]:
        summary += f", {counts['SKIP']} skipped"
    print(summary, flush=True)
    return 1 if counts["FAIL"] or not sum(counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
