"""A ``@workflow.init`` whose parameters are not the run method's is refused at definition,
naming both, rather than failing each execution at its first task."""

from __future__ import annotations

import pytest

from aioswf import workflow
from aioswf.exceptions import DefinitionError


@pytest.mark.parametrize(
    "init_params",
    ["self, a: int, b: int", "self", "self, m: int", "self, n: int = 1", "self, *, n: int"],
)
def test_an_init_that_does_not_fit_run_is_refused(init_params: str) -> None:
    scope: dict[str, object] = {"workflow": workflow}
    exec(
        f"""
class Mismatched:
    @workflow.init
    def __init__({init_params}) -> None:
        pass

    @workflow.run
    async def run(self, n: int) -> int:
        return n
""",
        scope,
    )
    expected = r"Mismatched: @workflow.init __init__\(.*\) must take the same parameters as run"
    with pytest.raises(DefinitionError, match=expected + r"\(self, n\)"):
        workflow.defn(scope["Mismatched"])  # type: ignore[call-overload]


def test_an_init_that_fits_run_is_accepted() -> None:
    @workflow.defn
    class Fits:
        @workflow.init
        def __init__(self, n: int, label: str = "x") -> None:
            self.n = n

        @workflow.run
        async def run(self, n: int, label: str = "x") -> int:
            return n

    assert Fits(1).n == 1
