"""Background CPU work yields to chat requests: a thread lowers its own priority.

On Linux niceness belongs to a thread, and threads it starts inherit it (torch's and
ONNX Runtime's pool threads included), so a bulk index build or a generation that lowers
its thread's priority leaves every request thread of the process at its own. With the
cores busy, the scheduler then gives a request at niceness 0 about ten times the CPU of a
thread at +10 (docs/reliability.md, "Load")."""

from __future__ import annotations

import os
import threading

BACKGROUND_NICENESS = 10  # added to the niceness of background threads


def lower_this_thread(by: int = BACKGROUND_NICENESS) -> None:
    """Add `by` to this thread's niceness (at most 19). Where that is not supported or not
    permitted, the thread keeps its priority: the work is the same, only its order."""
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread,
                       min(19, os.getpriority(os.PRIO_PROCESS, thread) + by))
    except (AttributeError, OSError):
        pass
