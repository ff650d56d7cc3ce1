# SPDX-License-Identifier: GPL-2.0
"""The CPU the tests run on computes what tracer's code says.

In the kernel-matrix guests it does not always: QEMU 7.2's x86 translator
(TCG) has stored 1 for `x > 0` with x == 0 when the SETcc store took a page
fault. In tracer that turned `run.timeline = env.verbose > 0` true without
-v (pktleak printed its -v frame timeline), so the guests' tracer faults its
memory in at start and after each fork() (make TCG_GUEST=1, runtime.c:
tcg_guest_prefault()). This checks that the workaround holds, and says what
the emulator does.
"""
from lib import IN_GUEST, eq, note, prog, run

# The program is the subject, not the backend: once per guest.
BACKEND_INDEPENDENT = True
RUNS = 5


def setcc_wrong(*args):
    """The stores tests/progs/tcg_setcc got wrong, over RUNS runs."""
    wrong = 0
    for _ in range(RUNS):
        res = run([prog("tcg_setcc"), *args])
        eq(res.code, 0, "tcg_setcc exit", res)
        wrong += int(res.out.split()[0])
    return wrong


def test_setcc_into_a_fresh_page():
    """With its pages faulted in first (as the guests' tracer does), a SETcc
    store is right on every CPU, emulated or not. Without, it is right on a
    real CPU; in the guests the emulator's figure is only noted."""
    plain, prefaulted = setcc_wrong(), setcc_wrong("--prefault")
    note(f"wrong SETcc stores of {64 * RUNS}: {plain} into fresh pages,"
         f" {prefaulted} after prefaulting"
         f"{' (QEMU TCG guest)' if IN_GUEST else ''}")
    eq(prefaulted, 0, "wrong SETcc stores after prefaulting")
    if not IN_GUEST:
        eq(plain, 0, "wrong SETcc stores on this CPU")
