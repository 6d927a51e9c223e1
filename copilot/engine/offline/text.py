"""Text helpers shared by the stages: sentence splitting, the lines an e-mail's own text ends at (quoted
history, signatures), and the attributed sentence the reply writer quotes."""
from __future__ import annotations

import re
from dataclasses import dataclass

from copilot.interactions.schemas import TimelineItem

QUOTE_HEADER = re.compile(r"^\s*(On .{5,120} wrote:|-{2,}\s*Original Message\s*-{2,}|From: .+|El .{5,80} escribió:|"
                          r"Le .{5,80} a écrit ?:|Am .{5,80} schrieb .{0,60}:|Den .{5,80} skrev .{0,60}:)\s*$",
                          re.IGNORECASE)
SIGN_OFF = re.compile(r"^\s*(kind regards|best regards|warm regards|regards|sincerely|best|cheers|thanks|thank you|"
                      r"many thanks|thx|yours truly|saludos|un saludo|atentamente|cordialement|bien à vous|"
                      r"mit freundlichen grüßen|viele grüße|med venlig hilsen|venlig hilsen|mvh|atenciosamente|"
                      r"cumprimentos|abraços|distinti saluti|met vriendelijke groet)[,.!]?\s*$", re.IGNORECASE)
NOISE_LINE = re.compile(r"^\s*(sent from my \w+|get outlook for \w+|"
                        r"\[(attachment|vedhæftet|adjunto|pièce jointe)[^\]]*\]|"
                        r"--\s*)$", re.IGNORECASE)
GREETING = re.compile(r"^\s*(hi|hello|hey|dear|hej|hola|bonjour|hallo|olá|ola|ciao|buongiorno|estimad[oa]|"
                      r"sehr geehrte[r]?|kære|good (morning|afternoon|evening))\b[^.!?\n]{0,60}[,!:]?\s*$",
                      re.IGNORECASE)
ABBREVIATIONS = re.compile(r"\b(Dr|Mr|Mrs|Ms|Mt|St|Ave|Rd|Jr|Sr|Inc|Ltd|Co|No|vs|approx|acct|Apt|Jan|Feb|Mar|Apr|Jun|"
                           r"Jul|Aug|Sep|Sept|Oct|Nov|Dec|Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun|a\.m|p\.m|e\.g|"
                           r"i\.e|etc|ref|Ref|tel|Tel|Sr|Sra|z\.B|bzw|ca)\.$")
URL = re.compile(r"https?://\S+|www\.\S+")


@dataclass
class Sentence:
    text: str
    speaker: str  # customer | agent | bot | system
    speaker_name: str | None
    item: TimelineItem
    order: int  # global position, oldest first
    internal: bool = False


ORDINAL_MONTH = re.compile(r"\s+(?:Jan|Feb|M[äa]r|Apr|Mai|Jun|Jul|Aug|Sep|Okt|Nov|Dez)[a-zä]*\b")


def split_sentences(text: str) -> list[str]:
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return []
    parts: list[str] = []
    start = 0
    for m in re.finditer(r"[.!?]+[\"')\]]?(?=\s+[\"'(\[]?[A-Z0-9¿¡$ÆØÅÉÁ-])|[!?]+(?=\s)", text):
        end = m.end()
        if m.group().startswith(".") and ABBREVIATIONS.search(text[start:end]):
            continue
        if m.group() == "." and re.search(r"(?<![\d.])\d{1,2}$", text[start:m.start()]) and \
                ORDINAL_MONTH.match(text, end):
            continue  # a German-style day ("bis zum 3. Juni") ends no sentence
        piece = text[start:end].strip()
        if piece:
            parts.append(piece)
        start = end
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    # bullets and very long lines without punctuation: split on " - " list separators too
    return [p.strip(" -•*") for p in parts if p.strip(" -•*")]
