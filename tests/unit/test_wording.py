"""Messages say how many and how long in words a person reads without stumbling."""

from __future__ import annotations

import pytest

from aioswf._wording import count, duration


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, "0 polls"), (1, "1 poll"), (2, "2 polls")],
)
def test_count_agrees_with_the_number(n: int, expected: str) -> None:
    assert count(n, "poll") == expected


def test_count_takes_an_irregular_plural() -> None:
    assert count(1, "activity", "activities") == "1 activity"
    assert count(3, "activity", "activities") == "3 activities"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (1, "1 second"),
        (1.0, "1 second"),
        (2, "2 seconds"),
        (0, "0 seconds"),
        (0.5, "0.5 s"),
        (0.3, "0.3 s"),
        (12.345, "12.35 s"),
        (1.004, "1 second"),
    ],
)
def test_duration_spells_out_whole_seconds(seconds: float, expected: str) -> None:
    assert duration(seconds) == expected
