"""The end of an outage, shared by every poll loop of one worker.

After an outage each poll loop backs off on its own, up to half a minute. Without a shared
word, a loop that drew a long back-off (the sticky decision list's, say) sleeps on after SWF
has answered its neighbours, and the cached runs' decision tasks wait on their sticky list
until SWF moves them back to the shared one. So the first loop that hears from SWF again
wakes the others that backed off because SWF could not answer; they check with their own
probe and poll at once.
"""

from __future__ import annotations

import asyncio


class SwfContact:
    """Wakes a worker's poll loops backing off from an outage once one of them reaches SWF."""

    def __init__(self) -> None:
        self._answered = asyncio.Event()
        self._waiting = 0

    def answered(self) -> None:
        """SWF answered a loop after an outage: the loops backing off from it poll again."""
        if self._waiting:
            self._answered.set()
            self._answered = asyncio.Event()

    async def back_off(self, stopping: asyncio.Event, delay: float) -> None:
        """Wait ``delay`` seconds, less if ``stopping`` is set or SWF answers another loop."""
        self._waiting += 1
        waits = [
            asyncio.ensure_future(stopping.wait()),
            asyncio.ensure_future(self._answered.wait()),
        ]
        try:
            await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._waiting -= 1
            for wait in waits:
                wait.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
