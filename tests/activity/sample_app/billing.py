"""Activities as functions and as methods of a module-level instance."""

from __future__ import annotations

from aioswf import activity


@activity.defn
async def charge(amount: int) -> int:
    return amount


@activity.defn(name="Billing.refund")
def refund(amount: int) -> int:
    return -amount


def not_an_activity() -> None:
    """Plain functions are left alone."""


@activity.defaults(name_prefix="Ledger.")
class Ledger:
    def __init__(self, book: str) -> None:
        self.book = book

    @activity.defn
    async def record(self, entry: str) -> str:
        return f"{self.book}: {entry}"

    def helper(self) -> None:
        """Not an activity."""


ledger = Ledger("main")
