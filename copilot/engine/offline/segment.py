"""Stage 1 of the card (DESIGN §3): every interaction becomes speaker turns.

A turn is what one speaker (customer, agent, bot, system) said in one interaction: a line of a chat log or
call transcript ("Name (agent): ...", "SomeBot: ...", "Customer: ..."), or the own text of an email, SMS or
note without its quoted history, greeting and signature. Lines of a bot or an agent inside a chat logged
as inbound are never the customer's. Spelled-out identifiers in spoken or typed dialogue are joined here,
so every later stage sees "KW4TZ", not "K as in kilo, W, 4 ...".
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from copilot.engine.injection import markers
from copilot.engine.offline.spelled import normalise_spelled
from copilot.engine.offline.text import GREETING, NOISE_LINE, QUOTE_HEADER, SIGN_OFF, URL, split_sentences
from copilot.interactions.schemas import AuthorRole, TimelineItem

DATA = Path(__file__).parent / "data"
DIALOGUE_CHANNELS = {"voice", "chat", "social", "ticket", "whatsapp"}
SPEAKER = re.compile(r"^\s*(?P<label>[^\W\d_][\w .'’&-]{0,38}?)\s*(?:\((?P<paren>[^)]{1,60})\))?\s*:\s*(?P<rest>.*)$")
BRACKET_LINE = re.compile(r"^\s*\[[^\]]{2,}\](?!\()")
MENTION = re.compile(r"(?<!\w)@\w+")


@cache
def lexicon() -> dict[str, Any]:
    """The card stages' word lists (loaded once)."""
    return json.loads((DATA / "card_lexicon.json").read_text(encoding="utf-8"))


@cache
def _rx(name: str) -> re.Pattern[str]:
    return re.compile(lexicon()[name], re.IGNORECASE)


def rx(name: str) -> re.Pattern[str]:
    """A compiled pattern of the lexicon by name (attachment, promise, request, fulfilled, ...)."""
    return _rx(name)


@dataclass
class Turn:
    role: AuthorRole
    name: str | None
    text: str  # cleaned, spelled ids joined
    item: TimelineItem
    index: int  # global position, oldest first
    part: str = "body"  # body | subject | footer | meta (forms, IVR lines): footer/meta/subject feed facts only
    attachment: bool = False  # the turn sends a file, photo or document
    sentences: list[str] = field(default_factory=list)

    @property
    def internal(self) -> bool:
        return self.item.direction == "internal"

    @property
    def speaks(self) -> bool:
        """A turn whose sentences are dialogue (summary, promises, requests), not a form or a footer."""
        return self.part == "body"


@cache
def _role_words(role: str) -> re.Pattern[str]:
    words = sorted(lexicon()["speaker_roles"][role], key=len, reverse=True)
    return re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(w) for w in words)})(?!\w)", re.IGNORECASE)


def _words_in(text: str, role: str) -> bool:
    return bool(_role_words(role).search(text))


def _label_role(label: str, paren: str | None) -> AuthorRole | None:
    """The role a line label names, from the label itself or its parenthesis, or None when it is just a name."""
    roles = lexicon()["speaker_roles"]
    low = label.strip().lower()
    if low in roles["customer"]:
        return "customer"
    if low in roles["agent"] or low.split()[0] in {"agent", "gm"}:
        return "agent"
    if low in roles["bot"] or low.endswith("bot") or _words_in(low, "bot"):
        return "bot"
    if low in roles["system"]:
        return "system"
    if paren:
        p = paren.strip().lower()
        if _words_in(p, "bot") or p.endswith("bot"):
            return "bot"
        if p in roles["customer"]:
            return "customer"
        if _words_in(p, "agent"):
            return "agent"
        if _words_in(p, "customer"):
            return "customer"
    if _words_in(low, "agent") and len(low.split()) > 1:
        return "agent"
    return None


def _is_field(label: str) -> bool:
    return label.strip().lower() in set(lexicon()["field_labels"])


def _first_name(name: str | None) -> str:
    return (name or "").strip().split(" ")[0].lower() if name else ""


@dataclass
class _Line:
    label: str | None
    paren: str | None
    text: str


def _parse_dialogue(lines: list[str]) -> list[_Line] | None:
    """The lines of a transcript with their labels, or None when the text is not a transcript."""
    parsed: list[_Line] = []
    labels: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        m = SPEAKER.match(line)
        if m and not _is_field(m.group("label")) and len(m.group("label").split()) <= 4 \
                and not BRACKET_LINE.match(line) and not re.match(r"https?$", m.group("label"), re.IGNORECASE):
            parsed.append(_Line(m.group("label").strip(), m.group("paren"), m.group("rest")))
            labels.append(m.group("label").strip().lower())
        else:
            parsed.append(_Line(None, None, line))
    if len(labels) < 2 or len(set(labels)) < 2:
        return None
    return parsed


def _resolve_roles(lines: list[_Line], item: TimelineItem, customer_names: set[str]) -> dict[str, AuthorRole]:
    """Each label's role: named by its words, by the customer's name, by a self-introduction, else by elimination."""
    roles: dict[str, AuthorRole] = {}
    unresolved: list[str] = []
    intro_tpl = lexicon()["self_intro"]
    opening = rx("agent_opening")
    own = _first_name(item.author_name) if item.author_role == "customer" else ""
    for line in lines:
        if line.label is None:
            continue
        key = f"{line.label}|{line.paren or ''}"
        if key in roles or key in unresolved:
            continue
        role = _label_role(line.label, line.paren)
        if role is None:
            first = line.label.split()[0].lower()
            if first and (first == own or first in customer_names):
                role = "customer"
        if role is None:
            unresolved.append(key)
        else:
            roles[key] = role
    for key in unresolved:
        label = key.split("|")[0]
        said = " ".join(ln.text for ln in lines if ln.label is not None and f"{ln.label}|{ln.paren or ''}" == key)
        first = re.escape(label.split()[-1])
        intro = re.compile(intro_tpl.replace("{name}", first), re.IGNORECASE)
        if intro.search(said) or opening.search(said[:200]):
            roles[key] = "agent"
    have_agent = "agent" in roles.values()
    for key in unresolved:
        if key not in roles:
            # another voice beside a known agent is the customer's side (a spouse on speaker); beside no agent,
            # the one who is not the customer is the agent
            roles[key] = "customer" if have_agent else "agent"
    return roles


def _clean_lines(item: TimelineItem) -> tuple[list[str], list[str], bool]:
    """(own lines, signature/footer lines, has attachment): quoted history dropped, greeting and sign-off split."""
    lines = item.text.replace("\r\n", "\n").split("\n")
    body: list[str] = []
    footer: list[str] = []
    attachment = False
    signed_off = False
    attach = rx("attachment")
    for line in lines:
        if line.lstrip().startswith(">") or QUOTE_HEADER.match(line) or re.match(r"^\s*-{3,}\s*Forwarded", line, re.I):
            break
        bracket = re.match(r"^\s*\[[^\]]*\]", line)
        if bracket and attach.search(bracket.group()):
            # "[attachment: x.pdf]" is a file, not text; "[In-app mail] Your order ..." is a message; what
            # follows the file's bracket on the same line is the message sent with it
            attachment = True
            line = line[bracket.end():]
            if not line.strip():
                continue
        if NOISE_LINE.match(line):
            continue
        if SIGN_OFF.match(line):
            signed_off = True
            continue
        if signed_off or re.match(r"^\s*--\s*$", line):
            signed_off = True
            footer.append(line)
            continue
        if GREETING.match(line) and not SPEAKER.match(line):
            continue
        body.append(line)
    return body, footer, attachment


# No identifier or word is longer: a longer run of non-space characters is cut, which bounds the work of every
# pattern that later scans a token (a 40,000-character "A-A-A-…" costs what 64 characters cost).
LONG_RUN = re.compile(r"\S{65,}")
MAX_TOKEN = 64
# Analysis reads at most this much of one line (its start: where what the customer says is stated).
MAX_LINE_CHARS = 20_000


def _normalise(text: str, spoken: bool, item: TimelineItem) -> str:
    text = LONG_RUN.sub(lambda m: m.group()[:MAX_TOKEN], text[:MAX_LINE_CHARS])
    text = URL.sub("", text)
    if item.channel == "social":
        text = MENTION.sub("", text)
    if spoken:
        text = normalise_spelled(text)
    return re.sub(r"[ \t]+", " ", text).strip()


def segment_item(item: TimelineItem, start: int, customer_names: set[str]) -> list[Turn]:
    body, footer, attachment = _clean_lines(item)
    out: list[Turn] = []

    def add(role: AuthorRole, name: str | None, text: str, part: str = "body", attached: bool = False,
            spoken: bool = False) -> None:
        text = _normalise(text, spoken, item)
        if not text and not attached:
            return
        if out and part == "body" and out[-1].part == "body" and out[-1].role == role and out[-1].name == name \
                and out[-1].item is item and not text.startswith("["):
            # a continuation line of the same speaker
            out[-1].text = (out[-1].text + "\n" + text).strip()
            out[-1].attachment = out[-1].attachment or attached
            return
        out.append(Turn(role, name, text, item, start + len(out), part, attached))

    if item.subject:
        add(item.author_role if item.direction != "inbound" else "customer", item.author_name, item.subject,
            part="subject")
    own_role: AuthorRole = "customer" if item.direction == "inbound" else item.author_role
    if own_role == "customer" and item.direction != "inbound":
        own_role = "agent"
    if item.direction == "internal":
        own_role = "agent"
    dialogue = _parse_dialogue(body) if item.channel in DIALOGUE_CHANNELS else None
    attach = rx("attachment")
    if dialogue is not None:
        roles = _resolve_roles(dialogue, item, customer_names)
        current: tuple[AuthorRole, str | None] | None = None
        for line in dialogue:
            if line.label is None:
                if BRACKET_LINE.match(line.text) or current is None:
                    add("system", None, line.text, part="meta")
                    continue
                role, name = current
                add(role, name, line.text, attached=bool(attach.search(line.text)), spoken=True)
                continue
            role = roles[f"{line.label}|{line.paren or ''}"]
            named_by_role = _label_role(line.label, None) is not None
            name = (line.paren if named_by_role else line.label) or None
            current = (role, name)
            is_attachment = bool(attach.search(line.text)) and role == "customer"
            text = re.sub(r"\[[^\]]*\]", "", line.text).strip() if is_attachment else line.text
            if text or is_attachment:
                out.append(Turn(role, name, _normalise(text, True, item), item, start + len(out), "body",
                                is_attachment))
    else:
        spoken = item.channel in {"voice", "chat"}
        text_lines: list[str] = []
        for line in body:
            if BRACKET_LINE.match(line) and not attach.search(line):
                # a record line ("[IVR] ...") is the system's, but one posing as a note or an order is the sender's
                system = item.direction == "inbound" and not markers(line)
                add("system" if system else own_role, None, line, part="meta")
                continue
            m = SPEAKER.match(line)
            if m and item.direction == "inbound" and _label_role(m.group("label"), m.group("paren")):
                line = m.group("rest")  # a label typed inside a customer message is still the customer's text
            text_lines.append(line)
        name = item.author_name if own_role != "customer" else None
        add(own_role, name, "\n".join(text_lines), attached=attachment, spoken=spoken)
        if out and attachment:
            out[-1].attachment = True
        elif attachment:
            out.append(Turn(own_role, name, "", item, start + len(out), "body", True))
    if footer:
        add(own_role, item.author_name, "\n".join(footer), part="footer")
    for turn in out:
        if turn.part == "body":
            turn.sentences = [s for line in turn.text.split("\n") for s in split_sentences(line)]
    return out


def segment(items: list[TimelineItem]) -> list[Turn]:
    """All turns of a customer's history, oldest first."""
    names = {_first_name(i.author_name) for i in items if i.direction == "inbound" and i.author_role == "customer"}
    names.discard("")
    turns: list[Turn] = []
    for item in items:
        turns.extend(segment_item(item, len(turns), names))
    return turns
