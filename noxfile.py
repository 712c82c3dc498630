"""Sessions: `nox` runs the checks CI runs; `nox -s bench` runs the benchmarks."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "examples", "docs"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, over loopback against the local SWF service and moto's server."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def faults(session: nox.Session) -> None:
    """The full fault-injection and fuzz runs (the default test run has their short form)."""
    session.install("-e", ".[test]")
    session.run("pytest", "tests/faults", *session.posargs, env={"AIOSWF_FULL_FAULTS": "1"})


@nox.session
def lint(session: nox.Session) -> None:
    """ruff's lint rules and formatting."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package, and on the examples as users would write them."""
    session.install("-e", ".[lint,test]")
    session.run("mypy", "--strict", "aioswf", "examples")


@nox.session
def examples(session: nox.Session) -> None:
    """Every example under examples/, end to end on the embedded local SWF service."""
    session.install("-e", ".[test]")  # the testing examples run pytest
    for example in sorted((ROOT / "examples").glob("*.py")):
        session.log(f"running {example.name}")
        session.run("python", str(example))


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site, built with --strict."""
    session.install("-e", ".[docs]")
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", "build/site", env={"NO_MKDOCS_2_WARNING": "1"}
    )


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks under benchmarks/; each prints its figures next to a same-run baseline."""
    session.install("-e", ".[test]")
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.log(f"running {script.name}")
        session.run("python", str(script), *session.posargs)
