"""The public names of aioswf.testing, pinned."""

from __future__ import annotations

import aioswf.testing


def test_public_names() -> None:
    assert set(aioswf.testing.__all__) == {
        "WorkflowEnvironment",
        "TimeSkippingHandle",
        "ActivityEnvironment",
        "Replayer",
        "ReplayResult",
        "History",
        "HistorySource",
        "load_history",
        "save_history",
    }
    for name in aioswf.testing.__all__:
        assert getattr(aioswf.testing, name) is not None
