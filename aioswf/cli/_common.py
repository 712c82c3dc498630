"""What several commands share: connection options, output, errors, time filters, imports."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import logging
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, TypeAlias

#: What ``add_subparsers`` returns; each command group registers its commands on it.
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class CommandError(Exception):
    """An expected failure of a command: printed as one line, exit status ``status``."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def add_command(
    commands: Commands, name: str, *, help: str, description: str, example: str
) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` ends with an example of its use."""
    parser = commands.add_parser(
        name,
        help=help,
        description=description,
        epilog=f"example:\n  {example}",
        formatter_class=_Formatter,
    )
    # The innermost command's parser reports arguments it does not know, with its own usage.
    parser.set_defaults(command_parser=parser)
    return parser


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the example's layout; wraps the description as usual."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("example:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return argparse.HelpFormatter._fill_text(self, text, width, indent)


def add_connection(parser: argparse.ArgumentParser, *, domain: bool = True) -> None:
    """``--domain``, ``--endpoint-url`` and ``--region``, defaulting from the environment."""
    if domain:
        parser.add_argument(
            "--domain",
            "-d",
            default=os.environ.get("AIOSWF_DOMAIN"),
            help="the SWF domain (default: $AIOSWF_DOMAIN)",
        )
    parser.add_argument(
        "--endpoint-url",
        default=None,
        help="SWF's endpoint, e.g. aioswf dev's (default: $AWS_ENDPOINT_URL_SWF, else AWS)",
    )
    parser.add_argument("--region", default=None, help="the AWS region (default: AWS chain)")
    add_converter(parser)


def add_converter(parser: argparse.ArgumentParser) -> None:
    """``--converter MODULE:ATTR``: the application's DataConverter (codecs, payload store)."""
    parser.add_argument(
        "--converter",
        default=None,
        metavar="MODULE:ATTR",
        help="the application's DataConverter (or a function returning one), to read and "
        "write its payloads: codecs, payload store (default: plain JSON)",
    )


def load_converter(args: argparse.Namespace) -> Any:
    """The converter ``--converter`` names, or ``None`` for the default.

    Raises:
        CommandError: the module or attribute cannot be found, or is no DataConverter.
    """
    from aioswf import DataConverter

    spec = getattr(args, "converter", None)
    if not spec:
        return None
    return load_named("--converter", spec, DataConverter)


def load_named(option: str, spec: str, kind: type[Any]) -> Any:
    """The instance of ``kind`` that ``spec`` (``MODULE:ATTR``) names: the attribute itself,
    or what calling it (a class or factory) returns.

    Raises:
        CommandError: the module or attribute cannot be found, calling it failed, or it is
            not a ``kind``; the message starts with ``option`` and ``spec``.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise CommandError(f"{option} {spec!r}: expected MODULE:ATTR", status=2)
    value = getattr(import_module(module_name), attribute, None)
    if value is None:
        raise CommandError(f"{option} {spec!r}: {module_name} has no {attribute!r}", status=2)
    if not isinstance(value, kind) and callable(value):
        try:
            value = value()
        except Exception as error:
            raise CommandError(
                f"{option} {spec!r}: calling it failed: {type(error).__name__}: {error}",
                status=2,
            ) from error
    if not isinstance(value, kind):
        article = "an" if kind.__name__[:1] in "AEIOU" else "a"
        raise CommandError(
            f"{option} {spec!r} is a {type(value).__name__}, not {article} {kind.__name__}",
            status=2,
        )
    return value


def add_json(parser: argparse.ArgumentParser) -> None:
    """``--json``: machine-readable output on stdout instead of tables."""
    parser.add_argument(
        "--json", action="store_true", help="write JSON for scripts instead of tables"
    )


@contextlib.asynccontextmanager
async def releasing(converter: Any) -> AsyncIterator[None]:
    """Close, at the end, what ``--converter``'s payload store opened on this event loop."""
    try:
        yield
    finally:
        if converter is not None:
            await converter.close()


def run_with_client(
    args: argparse.Namespace, body: Callable[[Any], Awaitable[int]], *, domain: str | None = None
) -> int:
    """Open a :class:`~aioswf.Client` from the command's options and run ``body`` with it."""
    from aioswf import Client, ConnectionOptions
    from aioswf._transport.connection import RetryOptions

    chosen = domain or getattr(args, "domain", None)
    if not chosen:
        raise CommandError("no domain: pass --domain NAME or set AIOSWF_DOMAIN", status=2)
    # A person at a terminal wants to hear quickly that SWF cannot be reached.
    connection = ConnectionOptions(connect_timeout=5.0, retry=RetryOptions(max_attempts=3))

    if not getattr(args, "debug", False):
        # Retries are the transport's business; the person hears the outcome in one line.
        logging.getLogger("aioswf").setLevel(logging.ERROR)

    converter = load_converter(args)

    async def main() -> int:
        async with (
            releasing(converter),
            Client(
                chosen,
                endpoint_url=args.endpoint_url,
                region_name=args.region,
                connection=connection,
                auto_register=False,
                converter=converter,
            ) as client,
        ):
            return await body(client)

    return asyncio.run(main())


def print_json(value: Any) -> None:
    """``value`` as indented JSON on stdout; ``datetime`` as ISO 8601."""
    print(json.dumps(value, indent=2, default=_json_default, ensure_ascii=False))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def parse_json_values(texts: list[str] | None, what: str) -> list[Any]:
    """Each ``--input`` as one JSON value, with a clear error naming the bad one."""
    values = []
    for number, text in enumerate(texts or (), 1):
        try:
            values.append(json.loads(text))
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{what} {number} is not JSON ({error.msg}): {text!r}; "
                "quote strings, e.g. --input '\"ada\"'",
                status=2,
            ) from None
    return values


_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str) -> datetime:
    """An ISO 8601 time, or a duration ago such as ``30m``, ``2h``, ``7d``."""
    match = _RELATIVE.match(text.strip())
    if match:
        amount, unit = match.groups()
        return datetime.now(UTC) - timedelta(**{_UNITS[unit]: float(amount)})
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither an ISO 8601 time nor a duration ago such as 30m, 2h, 7d"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def import_module(name: str) -> ModuleType:
    """Import a user's module or package by name or file path, the current directory first.

    A console script does not put the working directory on ``sys.path``; users expect
    ``--workflows myapp.workflows`` to find their project, as ``python -m`` would. A path
    such as ``./greet.py`` or ``src/app/`` is turned into the module name it stands for.

    Raises:
        CommandError: the module cannot be found, or importing it failed.
    """
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module_name = _module_name(name)
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise CommandError(f"cannot import {name!r}: {error}", status=2) from error
        raise CommandError(f"importing {name!r} failed: {error}", status=2) from error
    except Exception as error:
        raise CommandError(
            f"importing {name!r} failed: {type(error).__name__}: {error}", status=2
        ) from error


def _module_name(name: str) -> str:
    looks_like_path = name.endswith(".py") or os.sep in name or name.startswith(".")
    if not looks_like_path:
        return name
    path = Path(name)
    if not path.exists():
        raise CommandError(f"no such file or package: {name}", status=2)
    path = path.resolve()
    if path.suffix == ".py":
        path = path.with_suffix("")
    if path.name == "__init__":
        path = path.parent
    # The module is named from the nearest folder on sys.path (the working directory first);
    # outside it, the file's own folder goes on sys.path.
    for root in (Path.cwd(), *[Path(entry).resolve() for entry in sys.path if entry]):
        with contextlib.suppress(ValueError):
            parts = path.relative_to(root).parts
            if parts and all(part.isidentifier() for part in parts):
                return ".".join(parts)
    sys.path.insert(0, str(path.parent))
    return path.name


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM: the library installs no handlers, the command does."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not available on Windows
            loop.add_signal_handler(signum, stop.set)
    return stop


#: Libraries whose DEBUG logs (request signing, every HTTP exchange) drown a worker's own.
NOISY_LIBRARIES = ("botocore", "aiobotocore", "urllib3", "aiohttp", "asyncio")


def add_logging(parser: argparse.ArgumentParser) -> None:
    """``--log-level`` and ``--log-libraries``."""
    parser.add_argument(
        "--log-level",
        default="INFO",
        type=str.upper,
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="logging level (default: %(default)s)",
    )
    parser.add_argument(
        "--log-libraries",
        action="store_true",
        help="at DEBUG, show botocore's and aiohttp's debug logs too (left out by default)",
    )


def setup_logging(args: argparse.Namespace) -> None:
    """Log at ``--log-level``, keeping the libraries' DEBUG noise out unless asked for it."""
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.log_level == "DEBUG" and not args.log_libraries:
        for name in NOISY_LIBRARIES:
            logging.getLogger(name).setLevel(logging.INFO)
