"""Refusing, inside workflow code, what replay cannot reproduce: clocks, randomness, the
environment, files, threads, I/O.

The workflow loop already refuses threads, sockets and subprocesses asked for through asyncio
(``run_in_executor``, ``open_connection``…). Workflow code can also reach for the standard
library directly; the guards listed in :mod:`aioswf._sandbox.restrictions` catch that while a
workflow step runs on the current thread, each with an error that names what to use instead
(``workflow.now()``, ``workflow.random()``, ``workflow.uuid4()``, an activity).

How the guards work:

- a guard is a thin wrapper installed in place of the function (``time.time``,
  ``random.random``, ``uuid.uuid4``…), or an audit hook for what Python audits (sockets,
  subprocesses, ``open``, ``os.listdir``…). Outside workflow steps it costs one thread-local
  read, so the host program is not slowed down;
- names bound before the guards were installed (``from time import time`` at the top of a
  workflow's module) are rebound to the guarded function in the module of each workflow, when
  it is declared and when a worker starts; modules imported after the guards get the guarded
  function from the start. Other modules are left as they are: tools that run in any thread
  (a garbage-collection callback, a test plugin) keep the functions they bound;
- calls made by a *pass-through* module (``logging``, ``pydantic``… and any the worker names)
  are let through: they are known not to feed what they read into workflow decisions;
- a workflow declared with ``@workflow.defn(sandboxed=False)`` runs without the guards.

The guards are installed once per process, when the first workflow is declared or run, so
programs that only use the client are untouched.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType, ModuleType
from typing import Any

from aioswf.exceptions import NondeterminismError


class _ThreadState(threading.local):
    # Class-level defaults: on a thread that never ran workflow code (the host's), reading
    # them is a plain lookup, where a missing attribute would cost a caught AttributeError
    # (about half a microsecond) in every guarded call the host makes.
    active: str | None = None
    paused: str | None = None
    checkpoint: Callable[[bool], None] | None = None
    """Called around :func:`unguarded` blocks (see :func:`swap_checkpoint`)."""


_state = _ThreadState()
_install_lock = threading.Lock()
_installed = False

_steps: list[None] = []
"""An item for each workflow step running now, on any thread: while it is empty (a worker
between tasks, a host that never runs one), every guard returns at the read of this one
global, before the thread's state is looked at. A list, whose ``append`` and ``pop`` are
atomic: steps start and stop on several threads at once, and a lock per step would cost more
than the rest of the guarding."""

DEFAULT_PASS_THROUGH = frozenset(
    {
        "logging",
        "pydantic",
        "pydantic_core",
        "annotated_types",
        "typing_extensions",
        "dataclasses",
        "enum",
        "json",
        "decimal",
        "linecache",
        "tokenize",
        "traceback",
        "warnings",
        "zoneinfo",
    }
)
"""Modules whose calls are never refused: they do not feed what they read into decisions
(``logging`` stamps records with the real time; ``traceback`` reads source files to show
lines of a traceback; ``zoneinfo`` reads a time zone's data, shipped with the code, once per
process)."""

_pass_through: set[str] = set(DEFAULT_PASS_THROUGH)
_pass_through_changes = 0
_OWN_PACKAGE = "aioswf"

# The guarded versions of functions, by the id of the original: what the rebinding scan
# puts in place of a name bound to an original.
_replacements: dict[int, tuple[Any, Any]] = {}


def thread_state() -> _ThreadState:
    """This process's per-thread sandbox state: ``active`` names the run whose code runs on
    the reading thread (``None`` outside workflow code). Read directly where a call of
    :func:`running_workflow` is too dear."""
    return _state


def running_workflow() -> str | None:
    """The run whose code is executing on this thread, if any."""
    active: str | None = getattr(_state, "active", None)
    return active


@contextmanager
def guarding(describe: str) -> Iterator[None]:
    """Refuse non-deterministic calls on this thread while workflow code of ``describe`` runs."""
    outer = start_guarding(describe)
    try:
        yield
    finally:
        stop_guarding(outer)


def start_guarding(describe: str) -> str | None:
    """:func:`guarding` without a ``with`` block (the workflow loop enters one per step):
    guard this thread for ``describe``; returns the run guarded before, for
    :func:`stop_guarding`."""
    if not _installed:
        install()
    outer = _state.active
    _steps.append(None)
    _state.active = describe
    return outer


def running_steps() -> list[None]:
    """The list that :func:`start_guarding` appends to and :func:`stop_guarding` pops from
    (see :data:`_steps`), for the workflow loop: it does both in place for every step of a
    replay, with :func:`thread_state`, once :func:`install` has run."""
    return _steps


def stop_guarding(outer: str | None) -> None:
    """Guard this thread for ``outer`` again (``None``: not at all), as before
    :func:`start_guarding`."""
    _state.active = outer
    _steps.pop()


def any_guarding() -> bool:
    """Whether workflow code may be running on some thread (a step has started and not
    stopped): the guards' first, cheapest look."""
    return bool(_steps)


@contextmanager
def unguarded() -> Iterator[None]:
    """Lift the guards on this thread, for aioswf's own work on a workflow's behalf that
    replay does not see or that is not part of the workflow's logic (exporting a span that
    is only emitted the first time, a payload codec's random nonce)."""
    outer = running_workflow()
    checkpoint = _state.checkpoint
    if checkpoint is not None:
        checkpoint(True)  # what changed so far is the workflow code's; what follows is not
    _state.active = None
    _state.checkpoint = None
    try:
        yield
    finally:
        _state.active = outer
        _state.checkpoint = checkpoint
        if checkpoint is not None:
            checkpoint(False)


def swap_checkpoint(checkpoint: Callable[[bool], None] | None) -> Callable[[bool], None] | None:
    """Have :func:`unguarded` call ``checkpoint(True)`` when a block starts on this thread
    and ``checkpoint(False)`` when it ends (``None``: call nothing); returns the one before."""
    outer = _state.checkpoint
    _state.checkpoint = checkpoint
    return outer


def pass_through(modules: Iterable[str]) -> None:
    """Let calls made by ``modules`` (and their submodules) through the guards.

    Process-wide, like the guards themselves.
    """
    global _pass_through_changes
    names = set(modules) - _pass_through
    if names:
        _pass_through.update(names)
        _pass_through_changes += 1


def pass_through_generation() -> int:
    """How many times the pass-through modules changed: what was decided from them (which
    module state is watched) is decided again when this moves."""
    return _pass_through_changes


def install() -> None:
    """Install the guards in this process; later calls do nothing."""
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        from aioswf._sandbox import restrictions

        restrictions.install_all()
        # A garbage collection runs where it is triggered, workflow steps included, with the
        # callbacks and finalizers of anyone's objects: none of that is the workflow's code.
        gc.callbacks.insert(0, _collection_starts)
        gc.callbacks.append(_collection_ends)
        _installed = True


def _collection_starts(phase: str, info: dict[str, Any]) -> None:
    # Class-level defaults make plain reads safe on any thread (see `_ThreadState`).
    if phase == "start":
        _state.paused = _state.active
        _state.active = None


def _collection_ends(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop":
        _state.active = _state.paused
        _state.paused = None


def refusal(describe: str, what: str, instead: str = "an activity") -> NondeterminismError:
    """The error for ``what``, called by the workflow code of ``describe``."""
    return NondeterminismError(
        f"{describe}: {what} cannot be used inside a workflow, because a replay would not see "
        f"the same thing; use {instead} instead"
    )


def guard(
    function: Callable[..., Any],
    what: str,
    instead: str,
    *,
    refuse_if: Callable[[tuple[Any, ...], dict[str, Any]], bool] | None = None,
    takes_arguments: bool = True,
) -> Callable[..., Any]:
    """``function``, refused inside workflow steps (only when ``refuse_if(args, kwargs)``,
    if given) unless a pass-through module calls it.

    The host calls these functions too (its event loop reads ``time.monotonic()`` at every
    iteration), so the guard looks first at :data:`_steps`, one global read, and calls
    ``function`` at once while no step runs anywhere. ``takes_arguments=False`` (for the
    clocks) spares the packing of arguments a function never takes.
    """
    if getattr(function, "__aioswf_guarded__", False):
        return function
    state = _state

    def guarded(*args: Any, **kwargs: Any) -> Any:
        if _steps:
            describe = state.active
            if (
                describe is not None
                and (refuse_if is None or refuse_if(args, kwargs))
                and not trusted_caller(depth=1)
            ):
                raise refusal(describe, what, instead)
        return function(*args, **kwargs)

    def guarded_without_arguments() -> Any:
        if _steps:
            describe = state.active
            if describe is not None and not trusted_caller(depth=1):
                raise refusal(describe, what, instead)
        return function()

    if not takes_arguments and refuse_if is not None:
        raise ValueError("refuse_if needs the arguments: takes_arguments must be true")
    wrapper: Callable[..., Any] = guarded if takes_arguments else guarded_without_arguments

    for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
        with suppress(AttributeError, TypeError):
            setattr(wrapper, attribute, getattr(function, attribute))
    wrapper.__wrapped__ = function  # type: ignore[attr-defined]
    wrapper.__aioswf_guarded__ = True  # type: ignore[attr-defined]
    _replacements[id(function)] = (function, wrapper)
    return wrapper


def replace(owner: Any, name: str, guarded: Callable[..., Any]) -> None:
    """Put ``guarded`` in place of ``owner.name``."""
    setattr(owner, name, guarded)


def trusted_caller(depth: int) -> bool:
    """Whether the call made ``depth`` frames above the function calling this one comes from
    a pass-through module or from aioswf, or from a module being imported.

    The standard library's own frames are looked through (``os.getenv`` called by pydantic
    is pydantic's call); the first other frame decides. A module imported for the first
    time during a workflow step runs its top-level code there, once per process
    (``sysconfig`` reads the environment at import): that is no decision of the run's.
    """
    frame: FrameType | None = sys._getframe(depth + 1)
    decided = False
    collecting = {getattr(callback, "__code__", None) for callback in gc.callbacks}
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True  # an import in progress
        if frame.f_code in collecting:
            return True  # a garbage-collection callback, run where the collection began
        module = str(frame.f_globals.get("__name__", ""))
        if not decided:
            if is_pass_through(module):
                return True
            # The first frame outside the standard library is workflow code (or a library
            # it called): refused, unless an import is in progress further up.
            decided = not is_stdlib(module)
        frame = frame.f_back
    return False


def is_stdlib(module: str) -> bool:
    """Whether ``module`` belongs to the standard library."""
    top = module.partition(".")[0]
    return top in sys.stdlib_module_names or top.startswith("_frozen_importlib")


def is_pass_through(module: str) -> bool:
    """Whether ``module`` is aioswf's, or a pass-through module or one of its submodules."""
    top = module.partition(".")[0]
    return top == _OWN_PACKAGE or top in _pass_through or module in _pass_through


def rebind_module_of(cls: type) -> None:
    """:func:`rebind` the module that defines ``cls``, and have the asyncio primitives at
    its top level or on ``cls`` checked (some may predate the guards)."""
    from aioswf._sandbox import primitives  # it reads this module's thread state

    module = sys.modules.get(cls.__module__)
    if module is not None:
        rebind(module)
        primitives.adopt(getattr(module, "__dict__", {}).values())
    primitives.adopt(vars(cls).values())


def rebind(module: ModuleType) -> None:
    """Point ``module``'s globals bound to an unguarded function at the guarded one."""
    namespace = getattr(module, "__dict__", None)
    if not isinstance(namespace, dict):
        return
    for key, value in list(namespace.items()):
        found = _replacements.get(id(value))
        if found is not None and found[0] is value:
            namespace[key] = found[1]
