"""Finding workflow code that changes module state, which every run in the process shares.

A module is imported once per process, so a counter rebound with ``global``, a list at
module level that workflow code appends to, or a class attribute that it changes, is seen by
every other run on the worker and survives into the replays of the run that changed it: a
replay starts from wherever earlier runs left the state, decides differently, and fails
much later with an error that names nothing of the cause.

Isolating the state per run (importing the workflow's modules again for each run, as some
sandboxes do) costs an import per run and gives each run its own copy of every class, so
that a model or an exception type of one run is not the same class as the worker's. aioswf
finds the change instead, where it happens:

- when a workflow type first runs, its code is read (the bytecode of its methods and of the
  functions and classes of the application that they reach) for the module globals, class
  attributes and attributes of module-level objects that the code names (with or without a
  ``__dict__``), the variables that its functions close over, and what the bound methods
  and partials it names carry (``note = seen.append``); a module's globals
  are watched where the code names them on that module (``helper.calls``, ``from helper
  import calls``), not wherever an attribute of that name appears (``self.calls`` leaves
  the host's ``helper.calls`` alone);
- around each step of a sandboxed run, the values bound to those names are compared, by
  identity, and so are the contents of the mutable containers among them (``list``,
  ``dict``, ``set``, ``bytearray``, ``deque``, ``array``; item by item up to :data:`SMALL`
  items, by length beyond; the containers among a small one's items looked into the same
  way, one level deep), and how far the iterators among them went, read without advancing
  or copying them (an ``itertools.count``'s repr, a generator's place and variables (and
  those of what it delegates to with ``yield from``), what is left of an
  ``itertools.repeat`` or an iterator over a builtin container);
- in a replay, which re-runs steps that their tasks' first runs ran and checked, the values
  are still compared after each step but the contents only once per batch of steps (see
  :func:`steps_in_a_row`): a step that a replay would make change a container, the task's
  first run made change it, and was refused then;
- a change fails the decision task with a :class:`~aioswf.exceptions.NondeterminismError`
  naming the module, the name, the code that names it, and the fix (state on the workflow
  instance); nothing the step decided is sent, and the task is retried visibly like any
  other non-determinism.

Only the application's own modules are read: the standard library, aioswf, pass-through
modules and installed packages (under ``site-packages``) keep their caches and lazily
computed constants. A name that held ``None`` (or nothing) and is given a value is a lazily
computed constant too, and is let through. Activities are not workflow code and are not
read. What cannot be seen: state reached deeper than one level (a list inside a list
inside a module-level dict, an object's attributes inside a module-level list, anything
inside a module-level tuple), through ``getattr``/``globals()`` with computed names, or
inside iterators that show no progress without being advanced or copied
(``itertools.cycle``, ``islice``, ``chain``, ``enumerate``, ``map``, ``zip``, a
``random.Random``, a file, an iterator class of the application).
"""

from __future__ import annotations

import array
import collections
import contextlib
import dis
import functools
import itertools
import logging
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from operator import call, is_not, length_hint
from typing import Any

from aioswf._sandbox import core
from aioswf.exceptions import NondeterminismError

logger = logging.getLogger(__name__)

SMALL = 64
"""Containers up to this many items are compared item by item; larger ones by length."""

_MISSING: Any = object()
_CONTAINERS = (list, dict, set, bytearray, collections.deque, array.array)
_NESTED = frozenset(
    {*_CONTAINERS, collections.defaultdict, collections.OrderedDict, collections.Counter}
)
"""The containers that a small container's items are looked into, one level deep."""
_BUILTIN_ITERATORS = {
    type(iterator)
    for iterator in (
        *map(iter, ([], (), range(0), range(2**64), "", "\u20ac", b"", bytearray())),
        *map(iter, ({}, {}.values(), {}.items(), set(), collections.deque())),
        reversed([]),
    )
}
"""Iterators over a builtin sequence or container, whose ``__length_hint__`` (what is left)
shows how far they went, and reading it changes nothing."""
_ITERATORS = frozenset(
    {itertools.count, itertools.repeat, types.GeneratorType, *_BUILTIN_ITERATORS}
)
"""Iterators whose progress is compared (by exact type)."""
_PLAIN = frozenset({int, float, str, bytes, bool})
"""Types compared by value (their ``__eq__`` is Python's own); anything else by identity."""
_GLOBAL_OPS = frozenset({"LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL"})
_STORE_GLOBAL_OPS = frozenset({"STORE_GLOBAL", "DELETE_GLOBAL"})
_STORE_ATTR_OPS = frozenset({"STORE_ATTR", "DELETE_ATTR"})
_ATTR_OPS = frozenset({"LOAD_ATTR", "LOAD_METHOD", "LOAD_SUPER_ATTR", "IMPORT_FROM"}) | (
    _STORE_ATTR_OPS
)
_LOCAL_LOAD_OPS = frozenset({"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_DEREF", "LOAD_CLOSURE"})
_LOCAL_STORE_OPS = frozenset({"STORE_FAST", "STORE_DEREF"})
_STACK_KEEPING_OPS = frozenset({"COPY", "PUSH_NULL", "NOP", "EXTENDED_ARG", "CACHE"})
"""Instructions that leave the value on top of the stack as it was."""
_ACTIVITY_ATTR = "__aioswf_activity__"
_INSTALLED = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")


@dataclass(frozen=True, slots=True)
class _Spot:
    """One name in one namespace, and how an error names it."""

    name: str
    what: str
    """``the global COUNTER of module shop.flows``."""
    where: str
    """The code that names it: ``Order.run (flows.py:42)``."""


class StateWatch:
    """The module state that one workflow type's code names, compared around its steps."""

    def __init__(self, groups: list[tuple[Mapping[str, Any], tuple[_Spot, ...]]]) -> None:
        # One flat row per name, so that reading every value is one call into C.
        self._spots = tuple(spot for _, spots in groups for spot in spots)
        self._gets = tuple(namespace.get for namespace, spots in groups for _ in spots)
        self._names = tuple(spot.name for spot in self._spots)
        self._missing = (_MISSING,) * len(self._spots)
        self._reads = (self._gets, self._names, self._missing)
        """What :func:`_lookup` is mapped over to read every watched value."""

    @property
    def spots(self) -> list[_Spot]:
        """Every name watched (for tests and messages)."""
        return list(self._spots)

    def watching(self, describe: str) -> _Watching:
        """A context manager that refuses, as it exits, a change to the watched state made
        inside it by the workflow code of ``describe``; reusable, not re-entrant.

        What changes inside an :func:`~aioswf._sandbox.core.unguarded` block (a side
        effect's function, which runs once and is recorded) is not the workflow code's. An
        exception raised inside goes on as it is.

        Raises:
            NondeterminismError: a watched name was rebound or its container changed.
        """
        return _Watching(self, describe)

    def values(self) -> tuple[Any, ...]:
        """The objects bound to the watched names now (:data:`_MISSING` for none)."""
        return tuple(map(_lookup, *self._reads))

    def snapshot(self) -> _Snapshot:
        """The values bound to the watched names, and what their containers hold."""
        values = self.values()
        containers = [
            *itertools.compress(values, map(_WATCHED_KINDS.__getitem__, map(type, values)))
        ]
        if not containers:
            return values, containers, _NONE, _NONE
        return values, containers, _sizes(containers), [*map(_contents, containers)]

    def rebound(self, values: tuple[Any, ...]) -> bool:
        """Whether a watched name is bound to another object than in ``values`` (a
        snapshot's first part), in any way (lazily computed constants included)."""
        return any(map(is_not, values, map(_lookup, *self._reads)))

    def change(self, before: _Snapshot, describe: str) -> NondeterminismError | None:
        """The error for what changed since ``before``, if anything did."""
        values, containers, sizes, contents = before
        now = self.values()
        if any(map(is_not, values, now)):
            for spot, was, new in zip(self._spots, values, now, strict=True):
                # A name that held None or nothing is a lazily computed constant.
                if new is not was and was is not None and was is not _MISSING:
                    return _changed(describe, spot, "was rebound")
        if not containers:
            return None
        # Lengths as numbers, items by identity: no object's __eq__ runs here.
        if _sizes(containers) != sizes or not all(map(_same, contents, map(_contents, containers))):
            # Rare: find which, and say how.
            for value, size, items in zip(containers, sizes, contents, strict=True):
                kind = _kind(value)
                if _size(value) != size:
                    how = f"({kind}) went from {size} to {_size(value)} items"
                    return _changed(describe, self._spot_of(value), how)
                if not _same(items, _contents(value)):
                    changed = "had its items changed"
                    how = f"({kind}) {changed if size >= 0 else 'was advanced'}"
                    return _changed(describe, self._spot_of(value), how)
        return None

    def _spot_of(self, container: Any) -> _Spot:
        for spot, value in zip(self._spots, self.values(), strict=True):
            if value is container:
                return spot
        return _Spot("?", "a module-level container", "workflow code")


class _WatchedKinds(dict[type, bool]):
    """By type: whether what a value holds, or how far it went, is compared (a container
    or an iterator, see :data:`_CONTAINERS` and :data:`_ITERATORS`); decided once per type."""

    def __missing__(self, kind: type) -> bool:
        watched = issubclass(kind, _CONTAINERS) or kind in _ITERATORS
        self[kind] = watched
        return watched


_WATCHED_KINDS = _WatchedKinds()
_lookup: Callable[[Callable[[str, Any], Any], str, Any], Any] = call
"""``_lookup(namespace.get, name, default)``: for ``map``, which then calls into C only."""
_Snapshot = tuple[tuple[Any, ...], list[Any], list[int], list[tuple[Any, ...]]]
_NONE: list[Any] = []  # shared, never changed


class _Watching:
    """:meth:`StateWatch.watching`: a class rather than a generator, for its cost per step.

    A *window* runs from a snapshot to the comparison: one step, or (see
    :func:`steps_in_a_row`) the replayed steps of a batch and the step that closes it.
    """

    __slots__ = (
        "_batch",
        "_before",
        "_checkpoint_bound",
        "_describe",
        "_found",
        "_outer",
        "_watch",
        "window_open",
    )

    def __init__(self, watch: StateWatch, describe: str) -> None:
        self._watch = watch
        self._describe = describe
        self._found: NondeterminismError | None = None
        """A change found inside the window (before an unguarded block), refused as it ends."""
        self.window_open = False
        """Whether a window is open: replayed steps of a batch leave theirs open for the
        next step, which need not enter this (the workflow loop looks before it does)."""
        self._batch: list[_Watching] | None = None
        """The batch of steps that the open window belongs to, if any."""
        self._outer: Callable[[bool], None] | None = None
        self._checkpoint_bound = self._checkpoint  # bound once, not at every step

    def __enter__(self) -> None:
        if self.window_open:
            return  # a window left open by the replayed steps before
        self.window_open = True
        self._before = self._watch.snapshot()
        self._outer = _sandbox.checkpoint  # core.swap_checkpoint, without the call
        _sandbox.checkpoint = self._checkpoint_bound
        self._batch = _thread.batch
        if self._batch is not None:
            self._batch.append(self)

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        self.step_ended(kind, replayed=False)

    def step_ended(self, kind: type[BaseException] | None, *, replayed: bool) -> None:
        """The end of a step, as ``__exit__``; a ``replayed`` step inside
        :func:`steps_in_a_row` leaves the comparison of the containers' contents to a later
        step, unless a name was rebound.

        Raises:
            NondeterminismError: what changed in the window that this step closes.
        """
        watch = self._watch
        if (
            replayed
            and kind is None
            and self._batch is not None
            and self._found is None
            and not watch.rebound(self._before[0])
        ):
            return
        self._close()
        error, self._found = self._found, None
        if kind is None:
            error = error or watch.change(self._before, self._describe)
            if error is not None:
                raise error
        # else: the exception goes on, and the task fails anyway.

    def settle(self) -> None:
        """Close the window left open by replayed steps, now that code other than this
        run's may run on the thread; what changed in it is refused as the next step ends."""
        if self.window_open:
            self._close()
            if self._found is None:
                self._found = self._watch.change(self._before, self._describe)

    def _close(self) -> None:
        self.window_open = False
        self._batch = None
        _sandbox.checkpoint = self._outer

    def _checkpoint(self, entering: bool) -> None:
        """Around an unguarded block: what changed before it is the workflow code's; what
        changes inside it is not."""
        if not entering:
            self._before = self._watch.snapshot()
        elif self._found is None:
            self._found = self._watch.change(self._before, self._describe)


class _Batch(threading.local):
    batch: list[_Watching] | None = None
    """The windows that replayed steps left open on this thread, while it runs steps in a
    row; ``None`` otherwise."""


_thread = _Batch()
_sandbox = core.thread_state()


@contextlib.contextmanager
def steps_in_a_row() -> Iterator[None]:
    """Run the workflow steps of this thread inside the block as a batch: nothing runs on
    the thread between them but aioswf's own work (applying history events) and the steps
    of the same activation. An activation executor wraps its work in one, up to the point
    where it hands the thread back to other code.

    Inside, a replayed step compares only the values bound to the watched names (a
    rebinding is refused at once); the contents of the containers among them are compared
    when a step that is not replayed ends (the step that decides the task), or as the block
    ends (what changed is then refused as the run's next step ends). A replay re-runs steps
    whose code first ran when their tasks were decided, checked then: the only change this
    lets through is one that the replayed steps make and undo again, which the first run of
    the step that made it (deterministic code) was refused for.
    """
    outer = _thread.batch
    batch: list[_Watching] = []  # the windows opened inside
    _thread.batch = batch
    try:
        yield
    finally:
        _thread.batch = outer
        for watching in reversed(batch):
            watching.settle()


def _sizes(containers: list[Any]) -> list[int]:
    try:
        return [*map(len, containers)]
    except TypeError:  # an iterator among them: rare
        return [*map(_size, containers)]


def _size(value: Any) -> int:
    """A container's length; -1 for an iterator."""
    return len(value) if isinstance(value, _CONTAINERS) else -1


def _contents(value: Any) -> tuple[Any, ...]:
    """What a small container holds, as a tuple (empty for a large one, whose length is all
    that is compared), with the containers among its items looked into, one level deep; or
    how far an iterator went. A bytearray's items are small ints, which Python keeps one of
    each."""
    if type(value) in _ITERATORS:
        return _progress(value)
    if len(value) > SMALL:
        return ()
    if isinstance(value, dict):
        items: tuple[Any, ...] = (*value, *value.values())
        if _NESTED.isdisjoint(map(type, value.values())):  # a key is never a container
            return items
    elif type(value) is array.array:
        return _items(value)
    else:
        items = tuple(value)
        if _NESTED.isdisjoint(map(type, items)):
            return items
    return tuple(_Inner((len(i), *_items(i))) if type(i) in _NESTED else i for i in items)


def _items(value: Any) -> tuple[Any, ...]:
    """A container's items (a dict's keys and values, an array's bytes); none past
    :data:`SMALL`."""
    if len(value) > SMALL:
        return ()
    if isinstance(value, dict):
        return (*value, *value.values())
    if isinstance(value, array.array):
        return (value.tobytes(),)
    return tuple(value)


def _progress(iterator: Any) -> tuple[Any, ...]:
    """How far an iterator went, read without advancing, copying or pickling it: what an
    ``itertools.count`` shows of its next value, a generator's place and variables, or
    what is left of the others."""
    if isinstance(iterator, itertools.count):
        return (repr(iterator),)
    if isinstance(iterator, types.GeneratorType):
        frame = iterator.gi_frame
        if frame is None:
            return ()
        # Inside ``yield from`` the place and variables stay: the iterator delegated to goes on.
        inner = iterator.gi_yieldfrom
        delegated = _progress(inner) if type(inner) in _ITERATORS else ()
        return (frame.f_lasti, *frame.f_locals.values(), *delegated)
    return (length_hint(iterator),)


class _Inner(tuple[Any, ...]):
    """The length and items of a container inside a container."""

    __slots__ = ()


def _same(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    """Whether two :func:`_contents` hold the same objects (or equal plain values)."""
    return len(old) == len(new) and (
        not any(map(is_not, old, new)) or all(map(_same_item, old, new))
    )


def _same_item(old: Any, new: Any) -> bool:
    kind = type(old)
    if old is new:
        return True
    if kind is not type(new):
        return False
    if kind is _Inner:
        return _same(old, new)
    return kind in _PLAIN and bool(old == new)


def _kind(value: Any) -> str:
    """``a list``, ``an itertools.count``."""
    kind = type(value)
    name = f"itertools.{kind.__name__}" if kind.__module__ == "itertools" else kind.__name__
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _changed(describe: str, spot: _Spot, how: str) -> NondeterminismError:
    return NondeterminismError(
        f"{describe}: {spot.what} {how} while a workflow step ran (the code names it in "
        f"{spot.where}). "
        "Module-level state is shared by every run in the process and is not reset for a "
        "replay, so runs would see each other's changes and replays would decide "
        "differently; keep the state on the workflow instance (self.…) instead, or, if the "
        "change cannot affect decisions (a cache), pass its module through the sandbox "
        "(DecisionWorkerOptions(sandbox_pass_through=[...]))"
    )


# --- finding what the code names ----------------------------------------------------------

_lock = threading.Lock()
_watches: dict[tuple[type, int], StateWatch] = {}


def state_watch(cls: type) -> StateWatch:
    """The :class:`StateWatch` of workflow class ``cls``, read once (again after the
    pass-through modules change)."""
    key = (cls, core.pass_through_generation())
    watch = _watches.get(key)
    if watch is None:
        with _lock:
            watch = _watches.get(key)
            if watch is None:
                watch = _read(cls)
                _watches[key] = watch
    return watch


def _read(cls: type) -> StateWatch:
    try:
        return _Reader().read(cls)
    except Exception:
        # Reading code is best effort: a class that cannot be read runs unwatched, never
        # unrun.
        logger.warning(
            "the module state of workflow class %s is not checked: its code could not be read",
            cls.__qualname__,
            exc_info=True,
        )
        return StateWatch([])


@functools.cache
def _is_application(module: str, generation: int) -> bool:
    """Whether ``module`` is the application's: not the standard library, aioswf, a
    pass-through module, nor an installed package."""
    if not module or core.is_pass_through(module) or core.is_stdlib(module):
        return False
    loaded = sys.modules.get(module)
    path = getattr(loaded, "__file__", None)
    return not (isinstance(path, str) and any(part in path for part in _INSTALLED))


def _application(module: object) -> bool:
    return isinstance(module, str) and _is_application(module, core.pass_through_generation())


class _Reader:
    """Reads the code reachable from a workflow class for the module state it names."""

    def __init__(self) -> None:
        self._codes: set[types.CodeType] = set()
        self._pending: list[tuple[types.CodeType, dict[str, Any]]] = []
        self._reached: set[int] = set()
        self._keep: list[Any] = []  # what `_reached` holds the ids of stays alive
        self._globals: dict[int, tuple[dict[str, Any], dict[str, str]]] = {}
        self._stored_globals: set[tuple[int, str]] = set()
        self._attributes: dict[str, str] = {}
        self._attribute_stores: dict[str, str] = {}
        self._holders: dict[int, tuple[Mapping[str, Any], str]] = {}
        """Namespaces read by attribute: the application's classes and objects."""
        self._modules: dict[int, tuple[Mapping[str, Any], str]] = {}
        """The application's modules that the code names."""
        self._module_attributes: dict[int, dict[str, str]] = {}
        """By the id of a module's namespace: the names the code reads or sets on it."""
        self._followed: set[tuple[int, str]] = set()
        self._carried: dict[str, Any] = {}
        """Containers that bound methods and partials carry (``remember = seen.append``)."""
        self._carried_spots: dict[str, _Spot] = {}
        self._closures: list[tuple[_Cells, tuple[_Spot, ...]]] = []
        self._named = "a name"
        self._naming = "workflow code"
        """Where the code names what is being reached, for the spots it gives."""

    def read(self, cls: type) -> StateWatch:
        self._reach(cls)
        while self._pending:
            while self._pending:
                self._scan(*self._pending.pop())
            self._follow_attributes()
        return StateWatch(self._groups())

    # -- reaching objects ------------------------------------------------------------------

    def _reach(self, value: Any) -> None:
        if id(value) in self._reached:
            return
        self._reached.add(id(value))
        self._keep.append(value)
        self._reach_carried(value)
        functions = _functions_of(value)
        if functions:
            for function in functions:
                self._reach_function(function)
        elif isinstance(value, type):
            self._reach_class(value)
        elif isinstance(value, types.ModuleType):
            if _application(value.__name__):
                self._modules[id(value.__dict__)] = (value.__dict__, f"module {value.__name__}")
        elif not isinstance(value, _CONTAINERS) and (
            _application(type(value).__module__) or type(value) is types.SimpleNamespace
        ):
            holder = f"{type(value).__qualname__} object"
            attributes = _attribute(value, "__dict__")
            if isinstance(attributes, dict):
                self._holders[id(attributes)] = (attributes, holder)
            elif _slots(type(value)):
                self._holders[id(value)] = (_Slots(value), holder)
            self._reach(type(value))

    def _reach_carried(self, value: Any) -> None:
        """Reach what a bound method or a partial carries: its object, its arguments."""
        carried: list[Any] = []
        if isinstance(value, types.MethodType | types.BuiltinMethodType):
            owner = _attribute(value, "__self__")
            if owner is not None and not isinstance(owner, types.ModuleType | type):
                carried.append(owner)
        elif isinstance(value, functools.partial):
            carried.extend((*value.args, *value.keywords.values()))
        for item in carried:
            if isinstance(item, _CONTAINERS):
                key = str(len(self._carried))
                self._carried[key] = item
                carrier = getattr(value, "__qualname__", type(value).__qualname__)
                what = f"the {type(item).__name__} that {self._named} ({carrier}) carries"
                self._carried_spots[key] = _Spot(key, what, self._naming)
            else:
                self._reach(item)

    def _reach_function(self, function: types.FunctionType) -> None:
        if getattr(function, _ACTIVITY_ATTR, None) is not None:
            return  # an activity runs outside workflow steps
        if not _application(function.__globals__.get("__name__")):
            return
        self._pending.append((function.__code__, function.__globals__))
        if function.__closure__:
            cells = _Cells(
                dict(zip(function.__code__.co_freevars, function.__closure__, strict=True))
            )
            code = function.__code__
            where = (
                f"{code.co_qualname} ({os.path.basename(code.co_filename)}:{code.co_firstlineno})"
            )
            what = f"the variable {{}} that {function.__qualname__} closes over"
            named = [name for name in cells if not _dunder(name)]  # not super()'s __class__
            spots = tuple(_Spot(name, what.format(name), where) for name in named)
            if spots:
                self._closures.append((cells, spots))
            for name in named:
                self._reach(cells.get(name, _MISSING))

    def _reach_class(self, cls: type) -> None:
        for klass in cls.__mro__:
            if klass is cls or id(klass) not in self._reached:
                self._reached.add(id(klass))
                if not _application(klass.__module__):
                    continue
                self._holders[id(klass)] = (klass.__dict__, f"class {klass.__qualname__}")
                for member in list(vars(klass).values()):
                    for function in _functions_of(member):
                        self._reach(function)

    def _follow_attributes(self) -> None:
        """Reach what the attributes the code names hold, in the namespaces read so far."""
        for key, (namespace, names) in self._named_on_holders():
            for name, where in list(names.items()):
                if (key, name) not in self._followed and name in namespace:
                    self._followed.add((key, name))
                    self._named, self._naming = name, where
                    self._reach(namespace[name])

    def _named_on_holders(self) -> list[tuple[int, tuple[Mapping[str, Any], dict[str, str]]]]:
        """Each namespace read by attribute, with the names the code reads or sets on it
        (and where): any attribute named for a class or an object, whose code reaches it
        through values the reader cannot follow (``self.…``); for a module, the names read
        or set on the module itself."""
        held = [(key, (ns, self._attributes)) for key, (ns, _) in self._holders.items()]
        for key, (namespace, _) in self._modules.items():
            held.append((key, (namespace, self._module_attributes.get(key, {}))))
        return held

    # -- reading code ----------------------------------------------------------------------

    def _scan(self, code: types.CodeType, namespace: dict[str, Any]) -> None:
        if code in self._codes:
            return
        self._codes.add(code)
        names = self._globals.setdefault(id(namespace), (namespace, {}))[1]
        where = f"{code.co_qualname} ({os.path.basename(code.co_filename)}:{{}})"
        on_module = _attributes_of_modules(code, namespace)
        for instruction in dis.get_instructions(code):
            op, name = instruction.opname, instruction.argval
            if not isinstance(name, str):
                continue
            line = instruction.positions.lineno if instruction.positions else None
            # A global is shown where the code first assigns it, if it does (where a
            # rebinding comes from), else where it first names it.
            if op in _GLOBAL_OPS:
                if name not in names:
                    names[name] = self._naming = where.format(line)
                    self._named = name
                    self._reach(namespace.get(name, _MISSING))
                if op in _STORE_GLOBAL_OPS and (id(namespace), name) not in self._stored_globals:
                    self._stored_globals.add((id(namespace), name))
                    names[name] = where.format(line)
            elif op in _ATTR_OPS:
                # An attribute of a module the code names is that module's, and no other's.
                module = on_module.get(instruction.offset)
                named = self._attributes
                if module is not None:
                    self._reach(module)
                    named = self._module_attributes.setdefault(id(module.__dict__), {})
                named.setdefault(name, where.format(line))
                if op in _STORE_ATTR_OPS:
                    self._attribute_stores.setdefault(name, where.format(line))
            elif op == "IMPORT_NAME":
                self._reach(sys.modules.get(name, _MISSING))
        for constant in code.co_consts:
            if isinstance(constant, types.CodeType):
                self._scan(constant, namespace)

    # -- the watch -------------------------------------------------------------------------

    def _groups(self) -> list[tuple[Mapping[str, Any], tuple[_Spot, ...]]]:
        """The spots to watch, by namespace; a module's globals named both ways once."""
        spots: dict[int, tuple[Mapping[str, Any], dict[str, _Spot]]] = {}
        for key, (namespace, names) in self._globals.items():
            module = namespace.get("__name__", "?")
            found = spots.setdefault(key, (namespace, {}))[1]
            for name, where in names.items():
                stored = (key, name) in self._stored_globals
                if not _dunder(name) and (name in namespace or stored):
                    if not stored and name in self._attribute_stores:
                        where = self._attribute_stores[name]  # assigned as an attribute
                    found[name] = _Spot(name, f"the global {name} of module {module}", where)
        holders = {**self._holders, **self._modules}
        for key, (attributes, names) in self._named_on_holders():
            holder = holders[key][1]
            found = spots.setdefault(key, (attributes, {}))[1]
            for name, where in names.items():
                if name in attributes and name not in found and not _dunder(name):
                    found[name] = _Spot(name, f"the attribute {name} of {holder}", where)
        groups = [
            (namespace, tuple(found.values())) for namespace, found in spots.values() if found
        ]
        if self._carried:
            groups.append((self._carried, tuple(self._carried_spots.values())))
        groups.extend(self._closures)
        return groups


def _attributes_of_modules(
    code: types.CodeType, namespace: dict[str, Any]
) -> dict[int, types.ModuleType]:
    """The attribute instructions of ``code`` (by offset) that read or set an attribute of
    a module the reader can tell: a global or a local holding a module, an import, or an
    attribute of such a module that is a module itself (``shop.state.counts``)."""
    found: dict[int, types.ModuleType] = {}
    on_top: types.ModuleType | None = None  # the module the last instruction left on top
    imported: types.ModuleType | None = None  # the module of the last import
    local_modules: dict[str, types.ModuleType] = {}
    fromlist: Any = None  # the last constant loaded: an import's list of names
    for instruction in dis.get_instructions(code):
        op, name = instruction.opname, instruction.argval
        if op in _STACK_KEEPING_OPS:
            continue
        if op == "LOAD_CONST":
            fromlist = name
        below, on_top = on_top, None
        value: Any = None
        if op in _ATTR_OPS:
            receiver = imported if op == "IMPORT_FROM" else below
            if receiver is not None and isinstance(name, str):
                found[instruction.offset] = receiver
                value = _attribute(receiver, name) if op not in _STORE_ATTR_OPS else None
        elif op == "LOAD_GLOBAL" and isinstance(name, str):
            value = namespace.get(name)
        elif op in _LOCAL_LOAD_OPS:
            value = local_modules.get(name)
        elif op in _LOCAL_STORE_OPS:
            if below is not None:
                local_modules[name] = below
            else:
                local_modules.pop(name, None)
        elif op == "IMPORT_NAME" and isinstance(name, str):
            # Without a list of names (``import a.b``, ``import a.b as c``) the import
            # gives the top package, which IMPORT_FROM then reads ``b`` from.
            top = fromlist is None
            value = imported = _as_module(sys.modules.get(name.partition(".")[0] if top else name))
        on_top = _as_module(value)
    return found


def _as_module(value: Any) -> types.ModuleType | None:
    return value if isinstance(value, types.ModuleType) else None


class _Cells(Mapping[str, Any]):
    """The variables a function closes over, by name, as a namespace to watch."""

    def __init__(self, cells: dict[str, types.CellType]) -> None:
        self._cells = cells

    def __getitem__(self, name: str) -> Any:
        try:
            return self._cells[name].cell_contents
        except ValueError:  # a variable not bound yet
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._cells)

    def __len__(self) -> int:
        return len(self._cells)


class _Slots(Mapping[str, Any]):
    """The attributes of an object without a ``__dict__`` (its ``__slots__``)."""

    def __init__(self, value: Any) -> None:
        self._value = value
        self._names = _slots(type(value))

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        try:
            return getattr(self._value, name)
        except AttributeError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return (name for name in self._names if name in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _slots(cls: type) -> tuple[str, ...]:
    names: list[str] = []
    for klass in cls.__mro__:
        declared = vars(klass).get("__slots__", ())
        names.extend((declared,) if isinstance(declared, str) else declared)
    return tuple(name for name in names if not _dunder(name))


def _functions_of(value: Any) -> list[types.FunctionType]:
    """The functions behind a function, a method wrapper, a property or a decorator."""
    if isinstance(value, property):
        parts = (value.fget, value.fset, value.fdel)
        return [f for part in parts for f in _functions_of(part) if part is not None]
    for _ in range(8):
        if isinstance(value, types.FunctionType):
            return [value]
        if isinstance(value, staticmethod | classmethod | types.MethodType):
            value = value.__func__
        elif isinstance(value, functools.partial):
            value = value.func
        else:
            wrapped = _attribute(value, "__wrapped__")
            if wrapped is None:
                break
            value = wrapped
    return []


def _attribute(value: Any, name: str) -> Any:
    """``value.name``, or ``None`` if reading it fails in any way (a proxy object)."""
    try:
        return getattr(value, name, None)
    except Exception:
        return None


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")
