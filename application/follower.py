"""A background thread that follows the event log: woken after each commit, or every
``interval`` seconds, it runs one step; a fatal error stops it for good (and stays
visible), any other error is logged and retried a second later.

Shared by the projection runner and the transparency log's sealer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("custody.follower")


class Follower:
    def __init__(self, name: str, step: Callable[[], None], *, interval: float,
                 fatal: tuple[type[BaseException], ...]) -> None:
        self.name = name
        self.step = step
        self.interval = interval
        self.fatal = fatal
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def notify(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.step()
            except self.fatal:
                return  # stopped for good; the owner reports why (health, metrics)
            except Exception:
                log.exception("%s: will retry", self.name)
                time.sleep(1)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
