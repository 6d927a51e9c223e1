"""Splits interactions into attributed sentences: who said it (customer, agent, bot, system), in which
interaction, with quoted e-mail history, signatures and greetings removed."""
from __future__ import annotations

import re
from dataclasses import dataclass

from copilot.engine.offline.spelled import normalise_spelled
from copilot.engine.schemas import HistoryItem

CUSTOMER_LABELS = {"customer", "caller", "client", "cliente", "kunde", "kund", "user", "member", "patient", "guest",
                   "cx", "me"}
AGENT_LABELS = {"agent", "agente", "rep", "representative", "advisor", "adviser", "support", "operator", "tech",
                "technician", "specialist", "associate", "csr", "conseiller", "berater", "medarbejder", "atendente"}
BOT_LABELS = {"bot", "assistant", "virtual assistant", "ivr"}
SYSTEM_LABELS = {"system", "auto", "automated"}
SPEAKER = re.compile(r"^\s*(?P<label>[A-Za-z][A-Za-z ]{0,24}?)\s*(?:\((?P<name>[^)]{1,40})\))?\s*:\s*(?P<rest>.*)$")
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
MENTION = re.compile(r"(?<!\w)@\w+")


@dataclass
class Sentence:
    text: str
    speaker: str  # customer | agent | bot | system
    speaker_name: str | None
    item: HistoryItem
    order: int  # global position, oldest first
    internal: bool = False


def _is_transcript(item: HistoryItem, lines: list[str]) -> bool:
    labels = [SPEAKER.match(line) for line in lines]
    roles = {_role_of_label(m.group("label")) for m in labels if m}
    return "customer" in roles and len(roles - {None}) >= 2


def _role_of_label(label: str) -> str | None:
    low = label.strip().lower()
    if low in CUSTOMER_LABELS:
        return "customer"
    if low in AGENT_LABELS or low.endswith(" agent") or low.endswith(" support"):
        return "agent"
    if low in BOT_LABELS:
        return "bot"
    if low in SYSTEM_LABELS:
        return "system"
    return None


def clean_body(item: HistoryItem) -> list[str]:
    """The item's own lines: no quoted history, no signature block, no greeting, no attachments."""
    lines = item.text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    signed_off = False
    for line in lines:
        if line.lstrip().startswith(">") or QUOTE_HEADER.match(line):
            break
        if NOISE_LINE.match(line):
            continue
        if SIGN_OFF.match(line):
            signed_off = True
            continue
        if signed_off:
            continue  # signature block: names, titles, case footers (ids there still count, see all_text)
        if GREETING.match(line):
            continue
        out.append(line)
    return out


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


def item_sentences(item: HistoryItem, start_order: int) -> list[Sentence]:
    lines = clean_body(item)
    transcript = item.channel in {"voice", "chat", "ticket"} and _is_transcript(item, lines)
    default_role = "agent" if item.direction == "internal" else item.author_role
    if item.direction == "inbound" and not transcript:
        default_role = "customer"
    out: list[Sentence] = []
    order = start_order
    for line in lines:
        role, name, body = default_role, item.author_name if default_role != "customer" else None, line
        m = SPEAKER.match(line)
        if m and transcript:
            label_role = _role_of_label(m.group("label"))
            if label_role:
                role, name, body = label_role, m.group("name"), m.group("rest")
        elif m and _role_of_label(m.group("label")) and item.direction == "inbound":
            body = m.group("rest")  # a speaker label inside a customer message is the customer's text
        if transcript and item.channel in {"voice", "chat"}:
            body = normalise_spelled(body)
        body = URL.sub("", body)
        body = MENTION.sub("", body) if item.channel == "social" else body
        if body.strip().startswith("[Pre-chat") or "|" in body and body.count(":") >= 2:
            continue  # form headers carry identifiers only (extracted from the raw text)
        for sent in split_sentences(body):
            out.append(Sentence(sent, role, name, item, order, internal=item.direction == "internal"))
            order += 1
    return out


def all_sentences(items: list[HistoryItem]) -> list[Sentence]:
    out: list[Sentence] = []
    for item in items:
        out.extend(item_sentences(item, len(out)))
    return out


def searchable_text(item: HistoryItem) -> str:
    """Everything of the item that identifiers may come from (quoted history excluded, footers included)."""
    lines = item.text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for line in lines:
        if line.lstrip().startswith(">") or QUOTE_HEADER.match(line):
            break
        kept.append(line)
    text = "\n".join(kept)
    if item.channel in {"voice", "chat"}:
        text = "\n".join(normalise_spelled(line) for line in text.split("\n"))
    if item.subject:
        text = item.subject + "\n" + text
    # A @handle names an account, not an identifier the customer gave ("@465574" is a handle, not a number).
    return MENTION.sub(" ", URL.sub("", text))
