"""Resolve the time expressions of a sentence against the article's publication date.

News copy dates events relative to publication: "on Saturday" is the last
Saturday on or before it, "yesterday" the day before, "in March" the last March
not after it. Without a publication date only explicit dates resolve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

Precision = Literal["day", "week", "month"]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
_MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(MONTHS)}
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"

_EXPLICIT_DMY = re.compile(rf"\b(\d{{1,2}})\s+{_MONTH}\s+(\d{{4}})\b", re.IGNORECASE)
_EXPLICIT_MDY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b(?:on\s+)?{_MONTH}\s+(\d{{1,2}})\b(?!,?\s+\d{{4}})", re.IGNORECASE)
_WEEKDAY = re.compile(r"\b(?:on\s+|late\s+|early\s+|last\s+)?(" + "|".join(WEEKDAYS) + r")\b", re.IGNORECASE)
_RELATIVE = re.compile(r"\b(today|yesterday|last\s+week|last\s+month|this\s+week)\b", re.IGNORECASE)
_IN_MONTH = re.compile(rf"\b(?:in|since|early|late|mid-?)\s+{_MONTH}(?!\s+\d)\b", re.IGNORECASE)


@dataclass(frozen=True)
class DateRef:
    date: date
    precision: Precision
    text: str


def _month_number(token: str) -> int:
    return _MONTH_ABBR[token.lower().rstrip(".")[:3]]


def resolve_date(sentence: str, published: datetime | date | None) -> DateRef | None:
    """The first date the sentence states, or None when it states none we can resolve."""
    pub = published.date() if isinstance(published, datetime) else published
    m = _EXPLICIT_DMY.search(sentence)
    if m:
        return DateRef(date(int(m.group(3)), _month_number(m.group(2)), int(m.group(1))), "day", m.group())
    m = _EXPLICIT_MDY.search(sentence)
    if m:
        return DateRef(date(int(m.group(3)), _month_number(m.group(1)), int(m.group(2))), "day", m.group())
    if pub is None:
        return None
    m = _MONTH_DAY.search(sentence)
    if m and 1 <= int(m.group(2)) <= 31:
        month, day = _month_number(m.group(1)), int(m.group(2))
        year = pub.year if (month, day) <= (pub.month, pub.day) else pub.year - 1
        return DateRef(date(year, month, day), "day", m.group())
    m = _WEEKDAY.search(sentence)
    if m:
        back = (pub.weekday() - WEEKDAYS.index(m.group(1).lower())) % 7
        return DateRef(pub - timedelta(days=back), "day", m.group())
    m = _RELATIVE.search(sentence)
    if m:
        word = " ".join(m.group(1).lower().split())
        if word == "today":
            return DateRef(pub, "day", m.group())
        if word == "yesterday":
            return DateRef(pub - timedelta(days=1), "day", m.group())
        if word == "this week":
            return DateRef(pub - timedelta(days=pub.weekday()), "week", m.group())
        if word == "last week":
            monday = pub - timedelta(days=pub.weekday() + 7)
            return DateRef(monday, "week", m.group())
        first = pub.replace(day=1) - timedelta(days=1)
        return DateRef(first.replace(day=1), "month", m.group())
    m = _IN_MONTH.search(sentence)
    if m:
        month = _month_number(m.group(1))
        year = pub.year if month <= pub.month else pub.year - 1
        return DateRef(date(year, month, 1), "month", m.group())
    return None
