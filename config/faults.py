"""Fault injection points for the fault tests (tests/faults/). Off unless configured: a no-op check.

A job calls `fault_point("name")` at a spot where a crash is interesting (inside a transaction, after
a batch committed, after the gateway captured). When LIVEMARKET_FAULT_POINTS names that spot, the
process writes a marker file named after it into LIVEMARKET_FAULT_MARKER_DIR (so a test knows the job
got there) and sleeps LIVEMARKET_FAULT_PAUSE_SECONDS, long enough for the test to SIGKILL it there.
Nothing else changes: the job continues normally if nobody kills it.
"""

import os
import time
from pathlib import Path

from django.conf import settings


def fault_point(name: str) -> None:
    if name not in settings.LIVEMARKET_FAULT_POINTS:
        return
    if settings.LIVEMARKET_FAULT_MARKER_DIR:
        marker = Path(settings.LIVEMARKET_FAULT_MARKER_DIR) / name
        marker.write_text(str(os.getpid()))
    time.sleep(settings.LIVEMARKET_FAULT_PAUSE_SECONDS)
