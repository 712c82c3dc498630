"""The ``aioswf`` command.

One module per command group, each with a ``register(commands)`` function that adds its
subcommands to the parser built in :mod:`aioswf.cli._main`:

- :mod:`~aioswf.cli.dev`: ``dev``, the local SWF service;
- :mod:`~aioswf.cli.worker`: ``worker``, the workflows and activities of modules;
- :mod:`~aioswf.cli.replay`: ``replay``, recorded histories against today's code.
"""

from aioswf.cli._main import build_parser, main

__all__ = ("build_parser", "main")
