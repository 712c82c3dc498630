"""The local SWF service: the SWF API on loopback, in memory or on SQLite, with a clock you
can control.  See ``docs/local-service.md``."""

from aioswf.local.clock import Clock, RealClock, VirtualClock
from aioswf.local.engine import Engine
from aioswf.local.faults import SWFFault
from aioswf.local.service import LocalSWF

__all__ = ("Clock", "Engine", "LocalSWF", "RealClock", "SWFFault", "VirtualClock")
