"""Finding the activities and workflows defined in a module or a package.

A worker given a module registers what the module defines: ``@activity.defn`` functions,
the ``@activity.defn`` methods of objects created at module level (bound to them), and
``@workflow.defn`` classes. A package contributes every module below it, imported on the way.
Objects merely imported into a module are left to the module that defines them.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

from aioswf._definitions import (
    ActivityDefinition,
    WorkflowDefinition,
    activity_definition,
    workflow_definition,
)
from aioswf.exceptions import DefinitionError

logger = logging.getLogger(__name__)

_ACTIVITY_ATTR = "__aioswf_activity__"
_WORKFLOW_ATTR = "__aioswf_workflow__"


def modules_of(module: ModuleType) -> list[ModuleType]:
    """``module`` and, if it is a package, every module below it (imported here)."""
    found = [module]
    path = getattr(module, "__path__", None)
    if path is None:
        return found
    for sub in pkgutil.walk_packages(path, prefix=f"{module.__name__}."):
        found.append(importlib.import_module(sub.name))
    return found


def discover_activities(module: ModuleType) -> list[ActivityDefinition]:
    """The activities defined in ``module`` (and below it, for a package)."""
    found: list[ActivityDefinition] = []
    for mod in modules_of(module):
        for value in _defined_here(mod):
            if inspect.isfunction(value) and hasattr(value, _ACTIVITY_ATTR):
                found.append(activity_definition(value))
            elif _is_plain_instance(value):
                found.extend(_bound_activities(value))
    return found


def discover_workflows(module: ModuleType) -> list[WorkflowDefinition]:
    """The workflow classes defined in ``module`` (and below it, for a package)."""
    found: list[WorkflowDefinition] = []
    for mod in modules_of(module):
        for value in _defined_here(mod):
            if inspect.isclass(value) and _WORKFLOW_ATTR in vars(value):
                found.append(workflow_definition(value))
    return found


def _defined_here(module: ModuleType) -> Iterator[Any]:
    for value in list(vars(module).values()):
        owner = getattr(value, "__module__", None)
        if inspect.isfunction(value) or inspect.isclass(value):
            if owner == module.__name__:
                yield value
        elif _is_plain_instance(value):
            # An instance is "defined here" when the module created it; the class may live
            # anywhere. Instances imported from elsewhere are found again and de-duplicated.
            yield value


def _is_plain_instance(value: Any) -> bool:
    return not (
        inspect.ismodule(value)
        or inspect.isclass(value)
        or inspect.isroutine(value)
        or type(value).__module__ == "builtins"
    )


def _bound_activities(instance: Any) -> Iterator[ActivityDefinition]:
    seen: set[str] = set()
    for klass in type(instance).__mro__:
        for attr, member in vars(klass).items():
            if attr in seen or not inspect.isfunction(member):
                continue
            seen.add(attr)
            if hasattr(member, _ACTIVITY_ATTR):
                yield activity_definition(getattr(instance, attr))


def unique_activities(definitions: list[ActivityDefinition]) -> list[ActivityDefinition]:
    """``definitions`` without repeats; two different callables under one type is an error.

    Raises:
        DefinitionError: naming the type and both callables.
    """
    by_type: dict[tuple[str, str], ActivityDefinition] = {}
    for definition in definitions:
        key = (definition.name, definition.version)
        other = by_type.get(key)
        if other is None:
            by_type[key] = definition
        elif _identity(other.fn) != _identity(definition.fn):
            raise DefinitionError(
                f"two activities are registered as {definition.type_key}: {other.fn!r} and "
                f"{definition.fn!r}; give one of them another name= or version="
            )
    return list(by_type.values())


def unique_workflows(definitions: list[WorkflowDefinition]) -> list[WorkflowDefinition]:
    """``definitions`` without repeats; two different classes under one type is an error.

    Raises:
        DefinitionError: naming the type and both classes.
    """
    by_type: dict[tuple[str, str], WorkflowDefinition] = {}
    for definition in definitions:
        key = (definition.name, definition.version)
        other = by_type.get(key)
        if other is None:
            by_type[key] = definition
        elif other.cls is not definition.cls:
            raise DefinitionError(
                f"two workflows are registered as {definition.type_key}: "
                f"{other.cls.__qualname__} and {definition.cls.__qualname__}"
            )
    return list(by_type.values())


def _identity(fn: Any) -> tuple[int, int]:
    return id(getattr(fn, "__func__", fn)), id(getattr(fn, "__self__", None))


def workflow_definitions(items: Sequence[Any]) -> list[WorkflowDefinition]:
    """The workflows of ``items``: ``@workflow.defn`` classes, or modules to search."""
    found: list[WorkflowDefinition] = []
    for item in items:
        if isinstance(item, ModuleType):
            found.extend(discover_workflows(item))
        else:
            found.append(workflow_definition(item))
    return unique_workflows(found)


def activity_definitions(items: Sequence[Any]) -> list[ActivityDefinition]:
    """The activities of ``items``: ``@activity.defn`` callables, or modules to search."""
    found: list[ActivityDefinition] = []
    for item in items:
        if isinstance(item, ModuleType):
            found.extend(discover_activities(item))
        else:
            found.append(activity_definition(item))
    return unique_activities(found)
