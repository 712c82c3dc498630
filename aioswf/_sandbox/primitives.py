"""Refusing asyncio primitives shared between workflow runs, at no cost to the host's own.

An asyncio ``Lock``, ``Event``, ``Condition``, ``Semaphore``, ``Queue`` or ``Barrier`` made
outside the run that uses it (at module level, or by another run) would share state between
runs, which replay cannot reproduce (one run's lock held across another's replay), and tie
every run to the loop of the first one that waited on it. Two checks catch it inside
workflow steps:

- where a primitive binds to a loop, the first time it has to wait: any primitive not made
  by the running run is refused there. That path is already the slow one, so it costs the
  host nothing worth measuring;
- where it is used without waiting (a lock taken without contention, an event set, a queue
  put to): only on the primitives that can be shared. Those made while their module is
  imported (at module or class level) or by workflow code get, when they are made, a
  subclass of their class whose methods check who uses them; so do those already at the
  top level of a workflow's module or on a workflow class when it is declared or a worker
  starts (they may predate the sandbox). The host's own primitives, made in its functions,
  keep the plain asyncio classes: checking every use of those cost each uncontended
  ``acquire`` or ``release`` several times what it costs on its own
  (``benchmarks/bench_host_primitives.py`` measures the host's side).

A primitive the host makes in a function and stores at module level later is caught only
when it has to wait in workflow code.
"""

from __future__ import annotations

import asyncio
import asyncio.mixins
import sys
from asyncio import events
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from aioswf._sandbox.core import running_workflow, thread_state
from aioswf.exceptions import NondeterminismError

_CHECKED_USES: dict[type, tuple[str, ...]] = {
    asyncio.Lock: ("acquire", "release"),
    asyncio.Event: ("set", "clear", "wait"),
    asyncio.Semaphore: ("acquire", "release"),
    asyncio.Queue: ("put_nowait", "get_nowait"),
    asyncio.Condition: (),
    asyncio.Barrier: (),
}
"""Each primitive, and the methods that use it without waiting."""

_checked_classes: dict[type, type | None] = {}
"""Each concrete primitive class made so far, and its checking subclass."""


def install() -> None:
    """Put both checks in place; called once, by the sandbox's installation."""
    for cls in _CHECKED_USES:
        _remember_the_maker(cls)
    mixin: Any = asyncio.mixins._LoopBoundMixin
    original = mixin._get_loop

    def get_loop(self: Any) -> Any:
        describe = running_workflow()
        if describe is not None and getattr(self, "_aioswf_loop", None) is not (
            events._get_running_loop()
        ):
            raise shared_primitive(describe, self)
        return original(self)

    mixin._get_loop = get_loop


def adopt(values: Iterable[object]) -> None:
    """Check the uses of the primitives among ``values`` (the globals of a workflow's module,
    its class attributes): made to last, perhaps before the sandbox was installed."""
    for value in values:
        cls = type(value)
        if "_aioswf_public" in vars(cls) or not any(b in _CHECKED_USES for b in cls.__mro__):
            continue  # checked already, or no primitive
        checked = _checked_class(cls)
        if checked is not None:
            value._aioswf_loop = None  # type: ignore[attr-defined]
            value.__class__ = checked


def shared_primitive(describe: str, primitive: Any) -> NondeterminismError:
    """The error for ``primitive``, made outside the run of ``describe`` and used by it."""
    kind = _public_class(type(primitive)).__name__
    return NondeterminismError(
        f"{describe}: an asyncio.{kind} made outside this run (at module level, or in another "
        "run) is used by its code: it would tie the run to another loop and share state "
        f"between runs, which replay cannot reproduce; make the {kind} in the workflow's "
        "__init__ or run method instead"
    )


def _remember_the_maker(cls: type) -> None:
    """Have primitives of ``cls`` that can be shared remember the loop that made them, and
    check who uses them."""
    init = cls.__init__  # type: ignore[misc]
    state = thread_state()  # read directly: every primitive the host makes passes here

    def remembering_init(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        if state.active is not None:
            self._aioswf_loop = events._get_running_loop()
        elif _made_to_last(sys._getframe(1)):
            self._aioswf_loop = None
        else:
            return  # the host's own, made in a function: a plain asyncio primitive
        checked = _checked_class(type(self))
        if checked is not None:
            self.__class__ = checked

    cls.__init__ = remembering_init  # type: ignore[misc]


def _made_to_last(frame: FrameType | None) -> bool:
    """Whether the code that made a primitive (``frame``, or the first caller outside
    asyncio) ran while its module was being imported, or at the top level of a script: its
    primitive outlives any call, and can be shared.

    Read from the frame's globals only: a frame's code object is audited, and reading it
    would cost every primitive the host makes a run of the sandbox's audit hook.
    """
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("asyncio"):
        frame = frame.f_back
    if frame is None:
        return False
    spec = frame.f_globals.get("__spec__")
    if spec is not None:
        return bool(getattr(spec, "_initializing", False))
    # A script run as __main__ (no spec): its top level, or a class body in it.
    return frame.f_locals is frame.f_globals or "__module__" in frame.f_locals


def _checked_class(cls: type) -> type | None:
    """``cls`` with its uses checked (a subclass of it), or ``None`` if it cannot be."""
    if cls in _checked_classes:
        return _checked_classes[cls]
    checked: type | None = None
    bases = [base for base in cls.__mro__ if base in _CHECKED_USES]
    if bases and cls.__module__.startswith("asyncio"):  # a subclass of the user's may not fit
        names = _CHECKED_USES[bases[0]]
        namespace: dict[str, Any] = {name: _checking(getattr(cls, name)) for name in names}
        namespace["__module__"] = cls.__module__
        namespace["__qualname__"] = cls.__qualname__
        namespace["_aioswf_public"] = cls
        checked = type(cls.__name__, (cls,), namespace)
    _checked_classes[cls] = checked
    return checked


def _checking(method: Callable[..., Any]) -> Callable[..., Any]:
    # Lean on purpose (the thread state read directly, positional arguments only: none of
    # the checked methods takes keywords): module-level primitives of the host pay it too.
    state = thread_state()
    get_running_loop = events._get_running_loop

    def checked(self: Any, *args: Any) -> Any:
        describe = state.active
        if describe is not None and self._aioswf_loop is not get_running_loop():
            raise shared_primitive(describe, self)
        return method(self, *args)

    checked.__name__ = method.__name__
    checked.__qualname__ = method.__qualname__
    checked.__doc__ = method.__doc__
    return checked


def _public_class(cls: type) -> type:
    public: type = getattr(cls, "_aioswf_public", cls)
    return public
