"""No value from the shared evaluation data may appear in the code or the tests (issue 9: generalise, never memorise).

The evaluation folder sits beside the repository in CI (`../shared/eval`); without it there is nothing to compare
with, so the test is skipped. Only distinctive values are collected, so that a hit means a copy, not a coincidence:
ids mixing letters and digits, long digit runs, phone numbers, emails, expected phrases of 4+ words and 8-word
runs of the scenarios' texts.
"""
from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO.parent / "shared" / "eval"
SCANNED = ("copilot", "connectors", "prompts", "web", "apps", "tests")
SKIP_SUFFIXES = {".png", ".jpg", ".ico", ".pyc", ".sqlite", ".db", ".woff", ".woff2", ".gz", ".zip"}
# The scenario fields that hold what the scorer checks for: copying any of them into code or a test is memorising.
EXPECT_KEYS = ("must_surface", "must_surface_as_fact", "must_not_surface", "superseded", "open", "not_open",
               "reply_mentions", "must_not_suggest")
PHRASE_WORDS = 4  # an expected phrase this long does not occur by chance
RUN_WORDS = 8  # a run of words from a history this long does not either (shorter runs hit stock phrases)

TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-./#]*[A-Za-z0-9]")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"\+?\(?\d[\d ().-]{8,}\d")
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
# Tokens with letters and digits that are everyday notation, not ids: times, ordinals, units, dates, versions.
GENERIC = re.compile(r"""(?ix)
    \d{4}-\d\d-\d\d(t[\d:.]+z?)? | \d+(st|nd|rd|th|am|pm|h|hrs?|min|mins|s|ms|k|m|mb|gb|tb|kb|x|px|p|g|kg|lbs?|mph)
    | \d+(am|pm)?-\d+(am|pm) | \d+-(day|hour|week|month|year|minute)s? | v?\d+(\.\d+)+[a-z]* | [a-z]+-\d{1,2}
    | utf-\d+ | sha\d+ | x86_64 | [a-z]+\d{1,2} | (gmt|utc)[+-]\d+""")
# Digit runs that read the same in any data: repeated, round or counting numbers.
ROUND = re.compile(r"(\d)\1+|10+|12345\d*|0+[1-9]?")


def strings(obj: object, key: str = "") -> Iterator[tuple[str, str]]:
    """Every (field name, string) in a JSON value; the regexes of `must_not_ask` are patterns, not values."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k not in ("must_not_ask", "must_not_ask_for"):
                yield from strings(v, k)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings(v, key)
    elif isinstance(obj, str):
        yield key, obj


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def digits_of_phone(text: str) -> str | None:
    digits = re.sub(r"\D", "", text)
    return digits[-10:] if 10 <= len(digits) <= 13 else None


class Values:
    """The distinctive values of the evaluation data, collected once per test session."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.phrases: set[tuple[str, ...]] = set()
        self.runs: set[tuple[str, ...]] = set()

    def add_text(self, text: str, *, scenario: bool) -> None:
        for m in EMAIL.finditer(text):
            self.emails.add(m.group(0).lower())
        for m in TOKEN.finditer(text):
            tok = m.group(0).strip(".-/#")
            if "http" in tok.lower() or "@" in text[max(0, m.start() - 1):m.start()]:
                continue
            letters, digits = any(c.isalpha() for c in tok), sum(c.isdigit() for c in tok)
            run = max(re.findall(r"\d+", tok), key=len, default="")
            # Letter-and-digit ids only from the scenarios: the public sets' tweets are full of product names.
            mixed = letters and digits and len(tok) >= 6 and scenario and not GENERIC.fullmatch(tok)
            number = not letters and len(run) >= 6 and not ROUND.fullmatch(run)
            if mixed or number:
                self.ids.add(tok.lower())
        if scenario:
            for m in PHONE.finditer(text):
                if (digits := digits_of_phone(m.group(0))) and not ROUND.fullmatch(digits):
                    self.phones.add(digits)
            ws = words(text)
            self.runs.update(tuple(ws[i:i + RUN_WORDS]) for i in range(len(ws) - RUN_WORDS + 1))

    def add_scenario(self, scenario: dict) -> None:
        for key, text in strings(scenario):
            self.add_text(text, scenario=True)
            if key in EXPECT_KEYS and len(ws := words(text)) >= PHRASE_WORDS:
                self.phrases.add(tuple(ws))
        for key in EXPECT_KEYS:
            for _, text in strings(scenario.get("expect", {}).get(key, [])):
                if len(ws := words(text)) >= PHRASE_WORDS:
                    self.phrases.add(tuple(ws))


@cache
def eval_values() -> Values:
    values = Values()
    for path in sorted(EVAL.rglob("*")):
        if not path.is_file() or path.suffix not in (".jsonl", ".json", ".csv", ".tsv"):
            continue  # scorers, licences and READMEs are code and prose, not evaluation data
        text = path.read_text(encoding="utf-8", errors="replace")
        scenario = path.name.startswith("scenarios-")
        if path.suffix == ".jsonl":
            for line in filter(str.strip, text.splitlines()):
                record = json.loads(line)
                if scenario:
                    values.add_scenario(record)
                else:
                    for _, s in strings(record):
                        values.add_text(s, scenario=False)
        elif path.suffix == ".json":
            for _, s in strings(json.loads(text)):
                values.add_text(s, scenario=False)
        else:
            for row in csv.reader(text.splitlines(), delimiter="," if path.suffix == ".csv" else "\t"):
                for cell in row:
                    values.add_text(cell, scenario=False)
    return values


def scanned_files() -> Iterator[Path]:
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*")):
            if (path.is_file() and path.suffix not in SKIP_SUFFIXES and "__pycache__" not in path.parts
                    and path != Path(__file__).resolve()):
                yield path


def hits_in(text: str, values: Values) -> Iterator[tuple[int, str]]:
    """(line number, value) for each evaluation value in the text."""
    lines = text.splitlines()
    for n, line in enumerate(lines, 1):
        for m in TOKEN.finditer(line):
            if (tok := m.group(0).strip(".-/#").lower()) in values.ids:
                yield n, tok
        for m in EMAIL.finditer(line):
            if m.group(0).lower() in values.emails:
                yield n, m.group(0)
        for m in PHONE.finditer(line):
            if digits_of_phone(m.group(0)) in values.phones:
                yield n, m.group(0).strip()
    # Phrases may wrap over lines (string literals split in code), so match on the file's words.
    located = [(n, w) for n, line in enumerate(lines, 1) for w in words(line)]
    ws = [w for _, w in located]
    lengths = sorted({len(p) for p in values.phrases} | {RUN_WORDS})
    run_lines: set[int] = set()  # a copied sentence yields many overlapping runs: report its line once
    for i in range(len(ws)):
        for size in lengths:
            gram = tuple(ws[i:i + size])
            if len(gram) < size:
                continue
            if gram in values.phrases:
                yield located[i][0], " ".join(gram)
            elif size == RUN_WORDS and gram in values.runs and located[i][0] not in run_lines:
                run_lines.add(located[i][0])
                yield located[i][0], " ".join(gram)


@pytest.mark.skipif(not EVAL.is_dir(), reason="the shared evaluation folder is not beside the repository")
def test_no_evaluation_value_in_code_or_tests() -> None:
    values = eval_values()
    found: list[str] = []
    for path in scanned_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            text = path.read_text(encoding="latin-1")
        seen: set[tuple[int, str]] = set()
        for n, value in hits_in(text, values):
            if (n, value) not in seen:
                seen.add((n, value))
                found.append(f"{path.relative_to(REPO)}:{n}: {value}")
    assert not found, f"{len(found)} evaluation values in code or tests:\n" + "\n".join(found)


def test_the_matcher_finds_copies_and_ignores_everyday_text() -> None:
    """The guard itself on invented data: it must be able to fail, and must not fail on common text."""
    values = Values()
    values.add_scenario({"history": [{"text": "Your ticket is QZ-771203 and the refund goes to ana.k@mail.test. "
                                              "Call +1 (207) 555-0961 and quote the blue heron parcel from the dock."}],
                         "expect": {"must_surface": [["QZ-771203"], ["ask the warehouse to weigh it"]]}})
    copied = ('REF = "qz-771203"  # copied\nmail = "ANA.K@mail.test"\nphone = "207-555-0961"\n'
              'phrase = "we will ask the warehouse to weigh it today"\n'
              'run = ("quote the blue heron "\n       "parcel from the dock")\n')
    found = {value for _, value in hits_in(copied, values)}
    assert found == {"qz-771203", "ANA.K@mail.test", "207-555-0961", "ask the warehouse to weigh it",
                     "quote the blue heron parcel from the dock"}
    everyday = "Open 8am-12pm on 2026-03-14, v1.2.3, utf-8, 24-hour support, 100000 rows, your ticket is ready."
    assert list(hits_in(everyday, values)) == []
