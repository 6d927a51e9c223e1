"""Reply suggestions (DESIGN §3, stage 5): at most three replies, in the customer's language.

Composition (a contract with the retrieval stage, which ranks the past replies):
- when the history holds case state the message is about (an open promise, an id, amount or date it refers
  to), reply 1 is the grounded case reply (`compose.grounded_reply`);
- the other slots take the `past_reply` snippets in the order given, each kept as written except for the
  sentences that ask for what is known, hold a superseded value, or commit to what no one promised;
- with fewer than three, a passage of a public knowledge article that answers the message, then a
  template reply (a first reply for a first-time customer, a holding reply otherwise).
Customer text is data: the message picks the language and what is relevant, it is never quoted or obeyed.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from copilot.engine.offline.compose import (
    Context,
    adapt_past_reply,
    first_reply,
    grounded_reply,
    holding_reply,
    knowledge_reply,
    templates,
)
from copilot.engine.offline.language import detect_language
from copilot.engine.schemas import CardInsights, Snippet, SuggestedReply
from copilot.interactions.schemas import TimelineItem

MAX_REPLIES = 3
# Languages close enough to read a neighbour's templates, better than English for the customer.
NEIGHBOURS = {"sv": "da", "nb": "da", "no": "da"}


def reply_language(message: str, insights: CardInsights) -> str:
    available = templates()
    for lang in (detect_language(message), insights.language):
        lang = NEIGHBOURS.get(lang or "", lang)
        if lang in available:
            return lang
    return "en"


def first_name(customer_name: str | None) -> str | None:
    if not customer_name:
        return None
    first = customer_name.strip().split()[0]
    return first if re.fullmatch(r"[^\W\d_][^\W\d_'-]{1,30}", first) else None


def suggest(*, items: Sequence[TimelineItem], insights: CardInsights, message: str, channel: str,
            snippets: Sequence[Snippet], customer_name: str | None) -> list[SuggestedReply]:
    ctx = Context(items=list(items), insights=insights, message=message, channel=channel,
                  lang=reply_language(message, insights), name=first_name(customer_name), snippets=list(snippets))
    replies: list[SuggestedReply] = []
    case = grounded_reply(ctx)
    if case is not None:
        replies.append(case)
    for snip in snippets:
        if len(replies) >= MAX_REPLIES:
            break
        if snip.source_type == "past_reply":
            adapted = adapt_past_reply(ctx, snip)
            if adapted is not None and all(adapted.text != r.text for r in replies):
                replies.append(adapted)
    if len(replies) < MAX_REPLIES:
        kb = knowledge_reply(ctx)
        if kb is not None:
            replies.append(kb)
    if len(replies) < MAX_REPLIES:
        first_time = not [i for i in ctx.history if i.direction != "internal"]
        replies.append(first_reply(ctx) if first_time else holding_reply(ctx))
    fallback = [ctx.latest.interaction_id] if ctx.latest else [i.interaction_id for i in items[-1:]]
    for reply in replies:
        if not reply.sources:
            reply.sources = fallback  # every reply builds at least on the contact it answers
    return [r for r in replies if r.text.strip()][:MAX_REPLIES]
