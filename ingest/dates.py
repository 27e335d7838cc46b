"""Dates as Chinese government texts write them → ISO strings."""

from __future__ import annotations

import re

DATE_RE = re.compile(r"((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_CN_DATE = re.compile(
    r"([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日"
)
_MONTH_DAY = re.compile(r"(?<![\d年])(\d{1,2})月(\d{1,2})日")
_YEAR = re.compile(r"((?:19|20)\d{2})年")
_CN_DIGIT = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0"}


def parse_date(s: str) -> str:
    """2023-02-28 / 2023年2月28日 / 二〇二三年二月二十三日 → ISO; '' when there is no full date."""
    m = DATE_RE.search(s)
    if m:
        return iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _CN_DATE.search(s)
    if m:
        from ingest.structure import cn_number

        year = int("".join(_CN_DIGIT[c] for c in m.group(1)))
        return iso(year, cn_number(m.group(2)), cn_number(m.group(3)))
    return ""


def iso(y: int, m: int, d: int) -> str:
    return f"{y:04d}-{m:02d}-{d:02d}" if 1 <= m <= 12 and 1 <= d <= 31 else ""


def month_day_date(text: str) -> str:
    """News often gives only 12月13日下午 near the top and the year elsewhere (2023年度)."""
    md, year = _MONTH_DAY.search(text[:400]), _YEAR.search(text[:3000])
    if md and year:
        return iso(int(year.group(1)), int(md.group(1)), int(md.group(2)))
    return ""
