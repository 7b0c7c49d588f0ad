"""Graceful interrupt: the first SIGINT/SIGTERM stops new work, the second stops waiting.

A run killed between an AWS call and its state write leaves an intent that
the next run resolves with find(), so even a hard kill is safe; but an
interrupt can do better and leave nothing pending. The first signal sets
the walker's stop event: no change starts any more, the ones in flight run
to their end (call, wait, state write), the lock is released and the CLI
exits 130. Before any change has started (planning, the confirmation
prompt) there is nothing to wait for, so the first signal ends the run at
once (`Interrupted`), still releasing the lock on the way out.

The second signal stops waiting: the lock is released and the process
exits 130 immediately. What was recorded stays recorded: every completed
change, and an intent for each change still in flight, which the next
apply resolves.

Handlers are installed only in the main thread (Python delivers signals
there) and restored on exit.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

EXIT_CODE = 130  # 128 + SIGINT, what shells report for an interrupted command
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """Raised in the main thread by a signal that came before any change started.

    A BaseException (like KeyboardInterrupt) so no `except Exception` on the
    way out swallows it; `finally` blocks still run, so the lock is released.
    """

    def __init__(self, signame: str) -> None:
        super().__init__(signame)
        self.signame = signame


def _say(text: str) -> None:
    # os.write, not print: a handler may run while the main thread is inside a write to stderr.
    try:
        os.write(sys.stderr.fileno(), text.encode())
    except (OSError, ValueError):
        pass


class Guard:
    """Installs the two-step handlers for the duration of a locked run.

    `stop` is the event the walker polls; `executing` tells the handler that
    changes may be in flight (wait for them) rather than not yet started
    (end now); `on_abandon` runs before the hard exit of the second signal
    (release the lock).
    """

    def __init__(self, on_abandon: Callable[[], Any] = lambda: None,
                 exit: Callable[[int], Any] = os._exit) -> None:
        self.stop = threading.Event()
        self.executing = False
        self.signame: str | None = None
        self.count = 0
        self.on_abandon = on_abandon
        self._exit = exit
        self._old: dict[int, Any] = {}

    def __enter__(self) -> Guard:
        if threading.current_thread() is threading.main_thread():
            for s in SIGNALS:
                self._old[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for s, old in self._old.items():
            signal.signal(s, old)
        self._old.clear()

    @property
    def interrupted(self) -> bool:
        return self.signame is not None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        name = signal.Signals(signum).name
        if self.count == 1:
            self.signame = name
            self.stop.set()
            if not self.executing:
                raise Interrupted(name)
            _say(f"\n{name} received: no new change will start; waiting for the changes in flight to finish "
                 f"and be recorded, then releasing the lock. Send {name} again to stop waiting.\n")
            return
        _say(f"\n{name} again: not waiting any longer. Every finished change is recorded; changes still in "
             "flight stay recorded as pending intents, which the next apply resolves.\n")
        try:
            self.on_abandon()
        except BaseException as exc:  # noqa: BLE001 - exiting anyway; the lease then expires by itself
            _say(f"could not release the lock ({type(exc).__name__}: {exc}); it expires with its lease, or run "
                 "`infra state unlock --force`\n")
        self._exit(EXIT_CODE)
