"""The workflow sandbox: what workflow code may not call, and the guards that refuse it.

:mod:`aioswf._sandbox.core` decides (which thread runs which run's code, who is trusted);
:mod:`aioswf._sandbox.restrictions` lists what is refused and installs the guards;
:mod:`aioswf._sandbox.module_state` finds module state that workflow code changes.
"""

from aioswf._sandbox.core import (
    DEFAULT_PASS_THROUGH,
    guarding,
    install,
    is_pass_through,
    pass_through,
    rebind,
    rebind_module_of,
    running_workflow,
    unguarded,
)

__all__ = (
    "DEFAULT_PASS_THROUGH",
    "guarding",
    "install",
    "is_pass_through",
    "pass_through",
    "rebind",
    "rebind_module_of",
    "running_workflow",
    "unguarded",
)
