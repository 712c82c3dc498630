"""What the workflow sandbox refuses, and how each refusal is put in place.

Each entry names the call and what to use instead; :func:`install_all` puts the guards in
place (see :mod:`aioswf._sandbox.core` for how a guard decides). Refused inside workflow
steps:

- clocks: ``time.time/time_ns/monotonic/perf_counter/process_time/thread_time`` (and their
  ``_ns`` forms), ``time.sleep``, and ``time.localtime/gmtime/ctime/asctime/strftime`` when
  they would read the clock (no time given); ``datetime.now/utcnow/today``;
- randomness: the ``random`` module's functions, ``random.Random()`` without a seed,
  ``random.SystemRandom``, ``os.urandom``, ``secrets``, ``uuid.uuid1/uuid4``;
- clocks read through ``time.clock_gettime/clock_gettime_ns``;
- the environment and files: ``os.environ`` (and ``os.getenv``), ``open()``, listing,
  creating, removing or renaming files and directories, asking whether a file exists or
  about its size, times or modes (``os.stat/lstat/access``, hence ``os.path.exists``,
  ``Path.is_file()``…), the working directory and the host's name;
- threads, sockets, DNS, subprocesses (through asyncio or directly);
- ``asyncio.wait`` / ``asyncio.as_completed``, whose sets iterate in an order that depends on
  object ids (``workflow.wait`` / ``workflow.as_completed`` are the deterministic versions);
- an asyncio primitive (``Lock``, ``Event``, ``Condition``, ``Semaphore``, ``Queue``,
  ``Barrier``) made outside the run that uses it, such as one made at module level, when it
  is taken, released, set or waited on: it would share state between runs and tie every run
  to the first run's loop (see :mod:`aioswf._sandbox.primitives`).
"""

from __future__ import annotations

import asyncio
import asyncio.mixins
import asyncio.tasks
import ctypes
import datetime
import gc
import os
import random
import secrets
import sys
import threading
import time
import uuid
from typing import Any

from aioswf._sandbox import primitives
from aioswf._sandbox.core import guard, refusal, replace, running_workflow, trusted_caller

NOW = "workflow.now()"
RANDOM = "workflow.random()"
UUID = "workflow.uuid4()"
ACTIVITY = "an activity"

_AUDITED = {
    "socket.__new__": "sockets",
    "socket.connect": "network connections",
    "socket.getaddrinfo": "DNS resolution",
    "socket.gethostbyname": "DNS resolution",
    "subprocess.Popen": "subprocesses",
    "os.system": "subprocesses",
    "os.exec": "subprocesses",
    "os.spawn": "subprocesses",
    "os.posix_spawn": "subprocesses",
    "os.fork": "fork",
    "open": "open() (file access)",
    "os.listdir": "os.listdir() (file access)",
    "os.scandir": "os.scandir() (file access)",
    "glob.glob": "glob (file access)",
    "os.mkdir": "creating directories",
    "os.rmdir": "removing directories",
    "os.remove": "removing files",
    "os.rename": "renaming files",
    "os.truncate": "truncating files",
    "os.chmod": "changing file modes",
    "os.chdir": "changing the working directory",
    "shutil.copyfile": "copying files",
    "shutil.rmtree": "removing directories",
    "os.putenv": "os.environ",
    "os.unsetenv": "os.environ",
    "socket.gethostname": "socket.gethostname() (the host's name)",
}

_FILE_QUERIES = {
    "stat": "os.stat() (file access: os.path.exists(), getmtime(), Path.is_file()…)",
    "lstat": "os.lstat() (file access: os.path.islink(), lexists()…)",
    "access": "os.access() (file access)",
    "getcwd": "os.getcwd() (the working directory)",
}
"""Functions of ``os`` that Python does not audit, each guarded in its place; ``os.path``
and ``pathlib`` call them through the module, so they are guarded too."""

_CLOCKS = (
    "time",
    "time_ns",
    "monotonic",
    "monotonic_ns",
    "perf_counter",
    "perf_counter_ns",
    "process_time",
    "process_time_ns",
    "thread_time",
    "thread_time_ns",
    "clock_gettime",
    "clock_gettime_ns",
)


def _no_time_given(position: int) -> Any:
    """A ``refuse_if`` for calls that read the clock unless given a time at ``position``."""

    def check(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        return len(args) <= position or args[position] is None

    return check


def install_all() -> None:
    """Put every guard in place; called once per process by :func:`sandbox.install`."""
    sys.addaudithook(_audit)
    _guard_thread_start()
    _guard_time()
    _guard_randomness()
    _guard_datetime()
    _guard_environment()
    _guard_file_queries()
    _guard_asyncio()


_REFUSED_EVENTS = frozenset(_AUDITED)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    # Called for every audited event of the process, the host's included (each frame that
    # logging's ``findCaller`` reads is one): most are none of ours, so the event's name is
    # looked up first, in a frozenset, and nothing else is done for them.
    if event not in _REFUSED_EVENTS:
        return
    what = _AUDITED[event]
    describe = running_workflow()
    if describe is None or trusted_caller(depth=1):
        return  # outside workflow code, a pass-through module, or an import
    if event == "open" and _time_zone_file(args[0]):
        return
    raise refusal(describe, what, "an activity (or pass the value in as an input)")


def _time_zone_file(path: object) -> bool:
    """Whether ``path`` is a time zone's data in the system's zone directories, which
    ``zoneinfo.ZoneInfo`` (written in C: no frame of a pass-through module calls ``open``)
    reads once per process and caches: data shipped with the system, like the code."""
    zoneinfo = sys.modules.get("zoneinfo")
    if zoneinfo is None or not isinstance(path, str):
        return False
    return any(path.startswith(os.path.join(root, "")) for root in zoneinfo.TZPATH)


def _guard_thread_start() -> None:
    start = threading.Thread.start

    def guarded_start(self: threading.Thread) -> None:
        describe = running_workflow()
        if describe is not None:
            raise refusal(describe, "starting a thread")
        start(self)

    threading.Thread.start = guarded_start  # type: ignore[method-assign]


def _guard_time() -> None:
    for name in _CLOCKS:
        takes_arguments = name.startswith("clock_")  # clock_gettime(clock_id)
        guarded = guard(getattr(time, name), f"time.{name}()", NOW, takes_arguments=takes_arguments)
        replace(time, name, guarded)
    replace(time, "sleep", guard(time.sleep, "time.sleep()", "await asyncio.sleep()"))
    for name, position in (("localtime", 0), ("gmtime", 0), ("ctime", 0), ("asctime", 0)):
        guarded = guard(
            getattr(time, name),
            f"time.{name}() without a time",
            f"{NOW} (or pass the time)",
            refuse_if=_no_time_given(position),
        )
        replace(time, name, guarded)
    strftime = guard(
        time.strftime,
        "time.strftime() without a time",
        f"{NOW}.strftime()",
        refuse_if=_no_time_given(1),
    )
    replace(time, "strftime", strftime)


def _guard_randomness() -> None:
    for name in dir(random):
        value = getattr(random, name)
        if getattr(value, "__self__", None) is random._inst:
            replace(random, name, guard(value, f"random.{name}()", RANDOM))
    seed = guard(
        random.Random.seed,
        "random.Random() without a seed",
        f"{RANDOM}, or random.Random(seed)",
        refuse_if=lambda args, kwargs: (args[1] if len(args) > 1 else kwargs.get("a")) is None,
    )
    replace(random.Random, "seed", seed)
    urandom = guard(os.urandom, "os.urandom() (and random.SystemRandom)", RANDOM)
    replace(os, "urandom", urandom)
    replace(random, "_urandom", urandom)
    for name in ("token_bytes", "token_hex", "token_urlsafe", "choice", "randbelow", "randbits"):
        replace(secrets, name, guard(getattr(secrets, name), f"secrets.{name}()", RANDOM))
    for name in ("uuid1", "uuid4"):
        replace(uuid, name, guard(getattr(uuid, name), f"uuid.{name}()", UUID))


def _guard_datetime() -> None:
    # ``datetime`` is a built-in type: its class methods cannot be set as attributes, so
    # the guard goes into the type's own dictionary, and the type's method cache is reset.
    for cls, name in (
        (datetime.datetime, "now"),
        (datetime.datetime, "utcnow"),
        (datetime.date, "today"),
    ):
        namespace: dict[str, Any] = gc.get_referents(cls.__dict__)[0]
        original = namespace[name]
        what = f"{cls.__name__}.{name}()"

        def guarded(klass: type, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            return _original.__get__(None, klass)(*args, **kwargs)

        checked = guard(guarded, what, NOW)
        namespace[name] = classmethod(checked)
        ctypes.pythonapi.PyType_Modified(ctypes.py_object(cls))


def _guard_environment() -> None:
    environ_type = type(os.environ)
    for name in ("__getitem__", "__setitem__", "__delitem__", "__iter__", "__len__"):
        original = getattr(environ_type, name)
        replace(environ_type, name, guard(original, "os.environ", f"{ACTIVITY}, or an input"))


def _guard_file_queries() -> None:
    capabilities = (
        os.supports_dir_fd,
        os.supports_fd,
        os.supports_follow_symlinks,
        os.supports_effective_ids,
    )
    for name, what in _FILE_QUERIES.items():
        original = getattr(os, name)
        guarded = guard(original, what, f"{ACTIVITY} (or pass the value in as an input)")
        replace(os, name, guarded)
        # What ``os`` says a function supports is asked of the function itself
        # (``os.stat in os.supports_dir_fd``: shutil.rmtree's safe walk depends on it).
        for supported in capabilities:
            if original in supported:
                supported.add(guarded)


def _guard_asyncio() -> None:
    for name, instead in (("wait", "workflow.wait()"), ("as_completed", "workflow.as_completed()")):
        guarded = guard(getattr(asyncio, name), f"asyncio.{name}()", instead)
        replace(asyncio, name, guarded)
        replace(asyncio.tasks, name, guarded)
    primitives.install()
