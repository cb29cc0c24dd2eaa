"""Time expressions resolve against the publication date."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from pipelines.dates import resolve_date

PUBLISHED = datetime(2017, 8, 15, 9, 0, tzinfo=timezone.utc)  # a Tuesday


@pytest.mark.parametrize("sentence, expected, precision", [
    ("was taken by the Syrian army on Saturday", date(2017, 8, 12), "day"),
    ("reported on Tuesday", date(2017, 8, 15), "day"),
    ("yesterday", date(2017, 8, 14), "day"),
    ("since recapturing Palmyra in March", date(2017, 3, 1), "month"),
    ("in September", date(2016, 9, 1), "month"),
    ("on 12 August 2017", date(2017, 8, 12), "day"),
    ("on August 3", date(2017, 8, 3), "day"),
    ("last week", date(2017, 8, 7), "week"),
])
def test_relative_dates(sentence: str, expected: date, precision: str) -> None:
    ref = resolve_date(sentence, PUBLISHED)
    assert ref is not None and (ref.date, ref.precision) == (expected, precision)


def test_without_publication_only_explicit_dates_resolve() -> None:
    assert resolve_date("on Saturday", None) is None
    ref = resolve_date("on 12 August 2017", None)
    assert ref is not None and ref.date == date(2017, 8, 12)


def test_no_time_expression_gives_none() -> None:
    assert resolve_date("Forces advanced towards the town.", PUBLISHED) is None
