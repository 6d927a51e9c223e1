"""Turns identifiers spelled out aloud in call and chat transcripts back into compact strings.

"nine, one, oh, oh, four" -> "91004"; "A as in apple, 4, 4, 7" -> "A447"; "alpha bravo 4 4 7" -> "AB447";
"double four" -> "44". Only runs of at least four spoken symbols are rewritten, so ordinary words such as
"one thing" stay untouched.
"""
from __future__ import annotations

import re
from functools import lru_cache

DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9",
    # other languages, so Spanish/French/German/Danish calls work too
    "cero": "0", "uno": "1", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6", "siete": "7",
    "ocho": "8", "nueve": "9", "zéro": "0", "un": "1", "deux": "2", "trois": "3", "quatre": "4", "cinq": "5",
    "sept": "7", "huit": "8", "neuf": "9", "null": "0", "eins": "1", "zwei": "2", "drei": "3", "vier": "4",
    "fünf": "5", "sechs": "6", "sieben": "7", "acht": "8", "neun": "9", "nul": "0", "en": "1",
    "tre": "3", "fem": "5", "seks": "6", "syv": "7", "otte": "8",
}
# Words that are digits only inside an already started spelled run (too common alone).
WEAK_DIGIT_WORDS = {"o", "un", "en", "tre", "fem", "null", "nul", "sept", "dos", "seis"}
NATO = {
    "alpha": "A", "alfa": "A", "bravo": "B", "charlie": "C", "delta": "D", "echo": "E", "foxtrot": "F",
    "golf": "G", "hotel": "H", "india": "I", "juliet": "J", "juliett": "J", "kilo": "K", "lima": "L",
    "mike": "M", "november": "N", "oscar": "O", "papa": "P", "quebec": "Q", "romeo": "R", "sierra": "S",
    "tango": "T", "uniform": "U", "victor": "V", "whiskey": "W", "whisky": "W", "xray": "X", "x-ray": "X",
    "yankee": "Y", "zulu": "Z",
}
MULTIPLIERS = {"double": 2, "triple": 3, "doble": 2, "doppel": 2, "dobbelt": 2}
SEPARATORS = {"dash": "-", "hyphen": "-", "minus": "-"}
# NATO words that are also ordinary words; they count only next to other spelled symbols.
AMBIGUOUS_NATO = {"golf", "hotel", "india", "lima", "mike", "november", "oscar", "papa", "victor", "delta",
                  "echo", "charlie", "juliet", "sierra", "tango", "uniform", "yankee"}

TOKEN = re.compile(r"([A-Za-z][A-Za-z'-]*|\d+|[.,;…]+|\s+|[^\sA-Za-z\d])")
# "A as in apple", "B for Bravo", "C wie Cäsar": the letter, spoken with a word that names it
AS_IN = re.compile(r"(?<![\w'’])(?:([A-Za-z])\s+(?:as in|som i|comme dans|como en)|([A-Z])\s+(?:for|wie|de))"
                   r"\s+[^\W\d_]+\b")


def _symbol(word: str, in_run: bool) -> str | None:
    """The spelled symbol a token stands for, or None."""
    low = word.lower()
    if word.isdigit():
        return word if len(word) <= 4 else None
    if low in DIGIT_WORDS and (in_run or low not in WEAK_DIGIT_WORDS):
        return DIGIT_WORDS[low]
    if low in NATO and (in_run or low not in AMBIGUOUS_NATO):
        return NATO[low]
    if len(word) == 1 and word.isupper() and word != "I":
        return word  # a lone "A" only counts when a run of 3+ symbols forms around it
    return None


# "K-W-4-T-Z", "6-1-0-8-8": a read-back, one symbol at a time joined by hyphens
DASHED = re.compile(r"(?<![\w-])(?:[A-Za-z0-9]-){3,}[A-Za-z0-9](?![\w-])")


PUNCT = re.compile(r"[.,;…]+")
PAUSE = re.compile(r"\.\.|…")


def _weak_next(tokens: list[str], j: int) -> bool:
    """The next word is one that is a digit only inside a run ("oh", "o"), or no symbol at all."""
    while j < len(tokens) and tokens[j].isspace():
        j += 1
    if j >= len(tokens):
        return True
    low = tokens[j].lower()
    return low in WEAK_DIGIT_WORDS or low in {"oh", "o"} or _symbol(tokens[j], in_run=True) is None


@lru_cache(maxsize=4096)
def normalise_spelled(text: str) -> str:
    """Rewrite spelled-out identifiers in `text` into compact strings, leaving everything else as is."""
    text = DASHED.sub(lambda m: m.group().replace("-", "").upper(), text)
    text = AS_IN.sub(lambda m: (m.group(1) or m.group(2)).upper(), text)
    tokens = TOKEN.findall(text)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i].isspace() or PUNCT.fullmatch(tokens[i]):
            out.append(tokens[i])  # a run starts on a symbol, never on the space before it
            i += 1
            continue
        run_symbols: list[str] = []
        j = i
        last_symbol_end = i
        pending_mult = 1
        while j < len(tokens):
            tok = tokens[j]
            low = tok.lower()
            if tok.isspace() or PUNCT.fullmatch(tok):
                if not tok.isspace() and j + 1 < len(tokens) and not tokens[j + 1].isspace():
                    break  # "149.00", "1,284": a number's own punctuation ends the run
                if tok.strip() == "." or (PAUSE.search(tok) and _weak_next(tokens, j + 1)):
                    # "I skipped one. A, C": a full stop ends the run; after a pause ("5, 6... oh no") only a
                    # strong symbol goes on with it ("seven... one, two, six")
                    break
                j += 1
                continue
            if low in MULTIPLIERS:
                pending_mult = MULTIPLIERS[low]
                j += 1
                continue
            if low in SEPARATORS and run_symbols:
                run_symbols.append("-")
                j += 1
                continue
            sym = _symbol(tok, in_run=bool(run_symbols))
            if sym is None:
                break
            run_symbols.append(sym * pending_mult)
            pending_mult = 1
            j += 1
            last_symbol_end = j
        symbols = [s for s in run_symbols if s != "-"]
        spoken = sum(1 for t in tokens[i:last_symbol_end]
                     if not t.isspace() and not PUNCT.fullmatch(t))
        compact = "".join(run_symbols).strip("-")
        has_digit = any(ch.isdigit() for ch in compact)
        # a real spelled run: 4+ symbols, at least one digit or several letters, spoken as separate tokens
        if (len(symbols) >= 3 and spoken >= 3 and len(compact.replace("-", "")) >= 4
                and (has_digit or len(symbols) >= 5)):
            out.append(compact)
            i = last_symbol_end
            continue
        out.append(tokens[i])
        i += 1
    return "".join(out)
