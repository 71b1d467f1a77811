"""The build lock: a second holder waits for the first and says so once; a dead holder's
lock is gone with it."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from weaviate_dev.core import locks


def test_a_second_holder_waits_for_the_first(tmp_path):
    path = tmp_path / "b" / ".build.lock"
    order, waited = [], []
    with locks.held(path):
        def second():
            with locks.held(path, on_wait=lambda: waited.append(1)):
                order.append("second")

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        order.append("first done")
    thread.join(5)
    assert order == ["first done", "second"] and waited == [1]
    with locks.held(path, on_wait=lambda: waited.append(2)):  # free: no wait
        pass
    assert waited == [1]


def test_a_killed_holder_leaves_no_lock(tmp_path):
    path = tmp_path / ".build.lock"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path[:0] = [%r];"
        "from weaviate_dev.core import locks\n"
        "with locks.held(__import__('pathlib').Path(%r)):\n"
        "    print('held', flush=True); time.sleep(60)") % (sys.path[0], str(path))],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    waited = []
    holder.kill()
    holder.wait()
    with locks.held(path, on_wait=lambda: waited.append(1)):
        pass
    assert waited == []
