"""Finds dates and due phrases in text and resolves them against the time the text was written."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache

MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
    # es / pt / fr / de / da / it / nl
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
    "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    "janeiro": 1, "fevereiro": 2, "março": 3, "maio": 5, "junho": 6, "julho": 7, "setembro": 9, "outubro": 10,
    "novembro": 11, "dezembro": 12, "janvier": 1, "février": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "août": 8, "septembre": 9, "octobre": 10, "novembre": 11, "décembre": 12,
    "januar": 1, "februar": 2, "märz": 3, "juni": 6, "juli": 7, "oktober": 10, "dezember": 12,
    "marts": 3, "maj": 5, "gennaio": 1, "febbraio": 2, "aprile": 4, "maggio": 5, "giugno": 6, "luglio": 7,
    "settembre": 9, "ottobre": 10, "dicembre": 12, "januari": 1, "februari": 2, "maart": 3, "mei": 5,
    "augustus": 8, "december_": 12,
}
WEEKDAYS = {"mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2, "thu": 3,
            "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4, "sat": 5, "saturday": 5, "sun": 6,
            "sunday": 6, "lunes": 0, "martes": 1, "miércoles": 2, "jueves": 3, "viernes": 4, "sábado": 5,
            "domingo": 6, "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "montag": 0,
            "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "mandag": 0, "tirsdag": 1, "onsdag": 2,
            "torsdag": 3, "fredag": 4}
_MONTH_RE = "|".join(sorted((m for m in MONTHS if not m.endswith("_")), key=len, reverse=True))
_WEEKDAY_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
ORD = r"(?:st|nd|rd|th)?"
DATE_PATTERNS = [
    # "Fri Dec 18", "October 9th, 2026", "Oct. 9"
    re.compile(rf"\b(?:(?P<wd>{_WEEKDAY_RE})\.?,?\s+)?(?P<mon>{_MONTH_RE})\.?\s+(?P<day>\d{{1,2}}){ORD}\b"
               rf"(?:,?\s+(?P<year>20\d\d))?", re.IGNORECASE),
    # "9 October", "3 de agosto", "20. juni", "1er mars"
    re.compile(rf"\b(?:(?P<wd>{_WEEKDAY_RE})\.?,?\s+)?(?:the\s+)?(?P<day>\d{{1,2}})(?:{ORD}|\.|er)?\s+(?:of\s+|de\s+)?"
               rf"(?P<mon>{_MONTH_RE})\b\.?(?:,?\s+(?:de\s+)?(?P<year>20\d\d))?", re.IGNORECASE),
    # "Thu 10/22", "10/9", "4/22/2026"
    re.compile(rf"\b(?:(?P<wd>{_WEEKDAY_RE})\.?,?\s+)?(?P<m>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])"
               rf"(?:/(?P<y>(?:20)?\d\d))?(?![\d/])", re.IGNORECASE),
    # ISO
    re.compile(r"\b(?P<iy>20\d\d)-(?P<im>[01]\d)-(?P<id>[0-3]\d)\b"),
]
RELATIVE = re.compile(
    rf"\b(?:by|before|on|until|through|thru|no later than|this|next|this coming)\s+(?:the\s+)?(?P<wd>{_WEEKDAY_RE})\b"
    r"|\b(?P<tomorrow>tomorrow|mañana|demain|morgen|i morgen|amanhã)\b"
    r"|\bwithin\s+(?:the\s+next\s+)?(?:(?P<lo>\d+)\s*(?:-|to|–)\s*)?(?P<n>\d+)\s+(?P<biz>business\s+|working\s+)?"
    r"(?P<unit>days?|hours?|weeks?)\b"
    r"|\b(?:in|takes?|take)\s+(?:(?P<lo2>\d+)\s*(?:-|to|–)\s*)?(?P<n2>\d+)\s+(?P<biz2>business\s+|working\s+)?"
    r"(?P<unit2>days?|weeks?)\b"
    r"|\b(?:inden for|dentro de|en|sous|innerhalb von)\s+(?P<n3>\d+)\s+(?P<unit3>hverdage|dage|días hábiles|días|"
    r"jours ouvrés|jours|werktagen|tagen|dias úteis|dias)\b",
    re.IGNORECASE)


def _year_for(month: int, day: int, ref: datetime) -> int:
    year = ref.year
    try:
        candidate = ref.replace(year=year, month=month, day=day)
    except ValueError:
        return year
    # a date more than ~6 months before the message most likely means next year ("Jan 4" written in Nov)
    if (ref - candidate).days > 183:
        return year + 1
    return year


def _safe(ref: datetime, year: int, month: int, day: int) -> datetime | None:
    try:
        return ref.replace(year=year, month=month, day=day, hour=23, minute=59, second=0, microsecond=0)
    except ValueError:
        return None


HAS_DIGIT = re.compile(r"\d")


def find_dates(text: str, ref: datetime) -> list[tuple[str, datetime | None, int, int]]:
    """(as written, resolved date or None, start, end) for each calendar date in `text`."""
    if not HAS_DIGIT.search(text):
        return []  # every date pattern has a day number
    return list(_find_dates(text, ref))


@lru_cache(maxsize=4096)
def _find_dates(text: str, ref: datetime) -> tuple[tuple[str, datetime | None, int, int], ...]:
    found: list[tuple[str, datetime | None, int, int]] = []
    taken: list[tuple[int, int]] = []
    for pattern in DATE_PATTERNS:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            g = m.groupdict()
            when: datetime | None = None
            if g.get("mon"):
                month = MONTHS.get(g["mon"].lower().rstrip("."))
                day = int(g["day"])
                if not month or not 1 <= day <= 31:
                    continue
                year = int(g["year"]) if g.get("year") else _year_for(month, day, ref)
                when = _safe(ref, year, month, day)
            elif g.get("m"):
                before = text[max(0, m.start() - 1):m.start()]
                after = text[m.end():m.end() + 4]
                if before in {"$", "/"} or re.match(r"\s?(min|sec|day|mo|h\b)", after):
                    continue  # rates ("250/min") and fractions are not dates
                month, day = int(g["m"]), int(g["d"])
                year = int(g["y"]) if g.get("y") else _year_for(month, day, ref)
                year = year + 2000 if year < 100 else year
                when = _safe(ref, year, month, day)
            elif g.get("iy"):
                when = _safe(ref, int(g["iy"]), int(g["im"]), int(g["id"]))
            found.append((m.group().strip(), when, m.start(), m.end()))
            taken.append((m.start(), m.end()))
    return tuple(sorted(found, key=lambda f: f[2]))


def _add_business_days(start: datetime, days: int) -> datetime:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def find_due(text: str, ref: datetime) -> tuple[str | None, datetime | None]:
    """The due phrase of a promise as written, and its resolved date when it can be computed."""
    dates = find_dates(text, ref)
    if dates:
        written, when, _start, _end = dates[0]
        return written, when
    m = RELATIVE.search(text)
    if not m:
        return None, None
    g = m.groupdict()
    if g.get("wd"):
        target = WEEKDAYS[g["wd"].lower()]
        delta = (target - ref.weekday()) % 7 or 7
        when = (ref + timedelta(days=delta)).replace(hour=23, minute=59, second=0, microsecond=0)
        return m.group().strip(), when
    if g.get("tomorrow"):
        return m.group().strip(), (ref + timedelta(days=1)).replace(hour=23, minute=59, second=0, microsecond=0)
    n = g.get("n") or g.get("n2") or g.get("n3")
    unit = (g.get("unit") or g.get("unit2") or g.get("unit3") or "days").lower()
    biz = bool(g.get("biz") or g.get("biz2")) or unit in {"hverdage", "días hábiles", "jours ouvrés", "werktagen",
                                                          "dias úteis"}
    count = int(n) if n else 0
    if unit.startswith("hour"):
        return m.group().strip(), ref + timedelta(hours=count)
    if unit.startswith("week"):
        return m.group().strip(), ref + timedelta(weeks=count)
    when = _add_business_days(ref, count) if biz else ref + timedelta(days=count)
    return m.group().strip(), when.replace(hour=23, minute=59, second=0, microsecond=0)
