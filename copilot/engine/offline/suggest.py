"""Reply suggestions from templates filled with what is already known, in the customer's language.

Rules: acknowledge the ids, what was tried and what was promised; never ask for any of it again (no
questions at all: every reply is a statement); never promise anything an agent or a knowledge snippet did
not promise (the customer's message is only used to pick the language and the relevant snippet, never
quoted); short for sms/whatsapp/social, complete with greeting and sign-off for email.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from copilot.engine.offline.language import detect_language
from copilot.engine.offline.text import split_sentences
from copilot.engine.schemas import CardInsights, HistoryItem, OpenItem, Snippet, SuggestedReply

SHORT_CHANNELS = {"sms", "whatsapp", "social"}
SHORT_LIMIT = 320
CHAT_LIMIT = 600
# Words that turn a sentence into a request or a question; no reply sentence may contain them.
ASKING = re.compile(
    r"\?|\b(please|pls|can you|could you|would you|will you|have you|did you|do you|are you|is the|does (she|he)|"
    r"let'?s|go ahead and|try|trying|what|which|when|where|who|whom|how|may i|need (your|the|you)|describe|"
    r"confirm (your|the)|send (us|me)|share|upload|provide|tell (us|me)|"
    r"por favor|necesito|puede|podr[ií]a|ind[ií]queme|cu[aá]l|env[ií]e|mande|"
    r"pouvez|pourriez|veuillez|merci de|quel|quelle|"
    r"können sie|könnten sie|bitte|welche[rsn]?|"
    r"poderia|pode|por gentileza|qual|envie|"
    r"kan du|vil du|venligst|hvad|hvilke[tn]?|oplys|send os)\b",
    re.IGNORECASE)
# Commitments the engine must never invent; they appear only inside a quoted agent promise or a snippet.
COMMITMENT = re.compile(r"\b(refund|reimburs|credit|compensat|waive|discount|free of charge|reembols|abono|"
                        r"rembours|erstatt|gutschrift|refunder|tilbagebetal|reembolso|crédito)\w*", re.IGNORECASE)
ID_KINDS = {"order_id", "account_number", "booking_ref", "ticket_id", "tracking_number", "claim_number", "rma",
            "invoice_number", "policy_number", "reference", "work_order", "dispute_id", "patient_id", "payment_ref",
            "meter", "serial_number"}

T: dict[str, dict[str, str]] = {
    "en": {
        "hi": "Hi {name},", "hi_anon": "Hi,", "sign": "Kind regards,",
        "known": "I have your full history in front of me, including {ids}, so there's no need to repeat anything.",
        "known_short": "I have your history here ({ids}), no need to repeat anything.",
        "known_noid": "I have your full history in front of me, so there's no need to repeat anything.",
        "first": "Thanks for reaching out, and sorry about the trouble.",
        "tried": "I can see you've already {tried}, so we won't go over those steps again.",
        "promise_overdue": "I'm sorry: on {date} we said \u201c{promise}\u201d and that is now overdue ({due}).",
        "promise_open": "On {date} we noted: \u201c{promise}\u201d",
        "promise_short_overdue": "Sorry, the follow-up due {due} is overdue.",
        "looking": "I'm looking into this right now and I'll keep you updated in this conversation.",
        "looking_short": "I'm on it now and will update you here.",
        "holding": "Thanks for your patience{comma_name}. I have your history here{ids_paren}, so there's no need "
                   "to explain it again. I'm reviewing it now and will update you here.",
        "kb": "This applies in your case: {text}",
    },
    "es": {
        "hi": "Hola {name}:", "hi_anon": "Hola:", "sign": "Saludos cordiales,",
        "known": "Tengo todo su historial a la vista, incluido {ids}, así que no hace falta repetir nada.",
        "known_short": "Tengo su historial aquí ({ids}), no hace falta repetir nada.",
        "known_noid": "Tengo todo su historial a la vista, así que no hace falta repetir nada.",
        "first": "Gracias por escribirnos y disculpe las molestias.",
        "tried": "Veo que ya {tried}, así que no repetiremos esos pasos.",
        "promise_overdue": "Lo siento: el {date} le dijimos \u201c{promise}\u201d y ese plazo ya venció ({due}).",
        "promise_open": "El {date} anotamos: \u201c{promise}\u201d",
        "promise_short_overdue": "Lo siento, el seguimiento previsto para {due} está atrasado.",
        "looking": "Lo estoy revisando ahora mismo y le mantendré informado por este medio.",
        "looking_short": "Lo estoy revisando ahora y le aviso por aquí.",
        "holding": "Gracias por su paciencia{comma_name}. Tengo su historial aquí{ids_paren}, no hace falta "
                   "explicarlo de nuevo. Lo estoy revisando ahora y le aviso por aquí.",
        "kb": "Esto es lo que aplica en su caso: {text}",
    },
    "fr": {
        "hi": "Bonjour {name},", "hi_anon": "Bonjour,", "sign": "Cordialement,",
        "known": "J'ai tout votre historique sous les yeux, y compris {ids}, inutile de répéter quoi que ce soit.",
        "known_short": "J'ai votre historique ({ids}), inutile de répéter.",
        "known_noid": "J'ai tout votre historique sous les yeux, inutile de répéter quoi que ce soit.",
        "first": "Merci de nous avoir contactés, et désolé pour ce désagrément.",
        "tried": "Je vois que vous avez déjà {tried}, nous ne referons pas ces étapes.",
        "promise_overdue": "Je suis désolé : le {date} nous avions indiqué \u201c{promise}\u201d et le délai est "
                           "dépassé ({due}).",
        "promise_open": "Le {date}, nous avons noté : \u201c{promise}\u201d",
        "promise_short_overdue": "Désolé, le suivi prévu pour {due} est en retard.",
        "looking": "Je m'en occupe tout de suite et je vous tiens informé ici.",
        "looking_short": "Je m'en occupe et je vous tiens informé ici.",
        "holding": "Je vous remercie pour votre patience{comma_name}. J'ai votre historique{ids_paren}, "
                   "inutile de tout "
                   "réexpliquer. Je l'examine maintenant et je reviens vers vous ici.",
        "kb": "Voici ce qui s'applique à votre cas : {text}",
    },
    "de": {
        "hi": "Hallo {name},", "hi_anon": "Hallo,", "sign": "Viele Grüße,",
        "known": "Ich habe Ihren gesamten Verlauf vor mir, einschließlich {ids}, Sie müssen nichts wiederholen.",
        "known_short": "Ihr Verlauf liegt mir vor ({ids}), Sie müssen nichts wiederholen.",
        "known_noid": "Ich habe Ihren gesamten Verlauf vor mir, Sie müssen nichts wiederholen.",
        "first": "Danke für Ihre Nachricht, und entschuldigen Sie die Unannehmlichkeiten.",
        "tried": "Ich sehe, dass Sie bereits {tried}, diese Schritte wiederholen wir nicht.",
        "promise_overdue": "Es tut mir leid: Am {date} hatten wir \u201c{promise}\u201d zugesagt, und das ist "
                           "überfällig ({due}).",
        "promise_open": "Am {date} haben wir notiert: \u201c{promise}\u201d",
        "promise_short_overdue": "Entschuldigung, die Rückmeldung bis {due} ist überfällig.",
        "looking": "Ich kümmere mich jetzt sofort darum und halte Sie hier auf dem Laufenden.",
        "looking_short": "Ich kümmere mich jetzt darum und melde mich hier.",
        "holding": "Danke für Ihre Geduld{comma_name}. Ihr Verlauf liegt mir vor{ids_paren}, Sie müssen nichts "
                   "erneut erklären. Ich prüfe das jetzt und melde mich hier.",
        "kb": "Das gilt in Ihrem Fall: {text}",
    },
    "pt": {
        "hi": "Olá {name},", "hi_anon": "Olá,", "sign": "Atenciosamente,",
        "known": "Tenho todo o seu histórico aqui, incluindo {ids}, então não é preciso repetir nada.",
        "known_short": "Tenho seu histórico aqui ({ids}), não precisa repetir nada.",
        "known_noid": "Tenho todo o seu histórico aqui, então não é preciso repetir nada.",
        "first": "Obrigado pelo contato, e desculpe o transtorno.",
        "tried": "Vejo que você já {tried}, então não vamos repetir esses passos.",
        "promise_overdue": "Desculpe: em {date} dissemos \u201c{promise}\u201d e o prazo já passou ({due}).",
        "promise_open": "Em {date} registramos: \u201c{promise}\u201d",
        "promise_short_overdue": "Desculpe, o retorno previsto para {due} está atrasado.",
        "looking": "Estou verificando isso agora mesmo e vou mantê-lo informado por aqui.",
        "looking_short": "Estou verificando agora e aviso por aqui.",
        "holding": "Obrigado pela paciência{comma_name}. Tenho seu histórico aqui{ids_paren}, não precisa "
                   "explicar de novo. Estou analisando agora e aviso por aqui.",
        "kb": "Isto é o que se aplica ao seu caso: {text}",
    },
    "it": {
        "hi": "Ciao {name},", "hi_anon": "Buongiorno,", "sign": "Cordiali saluti,",
        "known": "Ho davanti tutta la sua cronologia, incluso {ids}, non serve ripetere nulla.",
        "known_short": "Ho la sua cronologia ({ids}), non serve ripetere nulla.",
        "known_noid": "Ho davanti tutta la sua cronologia, non serve ripetere nulla.",
        "first": "Grazie per averci scritto, e ci scusiamo per il disagio.",
        "tried": "Vedo che ha già {tried}, quindi non ripeteremo questi passaggi.",
        "promise_overdue": "Mi dispiace: il {date} avevamo detto \u201c{promise}\u201d ed è in ritardo ({due}).",
        "promise_open": "Il {date} abbiamo annotato: \u201c{promise}\u201d",
        "promise_short_overdue": "Mi scusi, il riscontro previsto per {due} è in ritardo.",
        "looking": "Me ne sto occupando adesso e la terrò aggiornata qui.",
        "looking_short": "Me ne occupo ora e la aggiorno qui.",
        "holding": "Grazie per la pazienza{comma_name}. Ho la sua cronologia{ids_paren}, non serve spiegare di "
                   "nuovo. La sto esaminando ora e la aggiorno qui.",
        "kb": "Ecco cosa si applica al suo caso: {text}",
    },
    "nl": {
        "hi": "Hallo {name},", "hi_anon": "Hallo,", "sign": "Met vriendelijke groet,",
        "known": "Ik heb uw volledige geschiedenis voor me, inclusief {ids}, u hoeft niets te herhalen.",
        "known_short": "Ik heb uw geschiedenis ({ids}), u hoeft niets te herhalen.",
        "known_noid": "Ik heb uw volledige geschiedenis voor me, u hoeft niets te herhalen.",
        "first": "Bedankt voor uw bericht, en excuses voor het ongemak.",
        "tried": "Ik zie dat u al {tried}, die stappen doen we niet opnieuw.",
        "promise_overdue": "Excuses: op {date} zeiden we \u201c{promise}\u201d en dat is nu te laat ({due}).",
        "promise_open": "Op {date} noteerden we: \u201c{promise}\u201d",
        "promise_short_overdue": "Excuses, de opvolging voor {due} is te laat.",
        "looking": "Ik ga er nu direct mee aan de slag en houd u hier op de hoogte.",
        "looking_short": "Ik ga er nu mee aan de slag en laat het u hier weten.",
        "holding": "Bedankt voor uw geduld{comma_name}. Ik heb uw geschiedenis{ids_paren}, u hoeft het niet "
                   "opnieuw uit te leggen. Ik bekijk het nu en laat het u hier weten.",
        "kb": "Dit geldt in uw geval: {text}",
    },
    "da": {
        "hi": "Hej {name},", "hi_anon": "Hej,", "sign": "Med venlig hilsen,",
        "known": "Jeg har hele din historik foran mig, herunder {ids}, så du behøver ikke gentage noget.",
        "known_short": "Jeg har din historik ({ids}), du behøver ikke gentage noget.",
        "known_noid": "Jeg har hele din historik foran mig, så du behøver ikke gentage noget.",
        "first": "Tak fordi du skrev, og undskyld besværet.",
        "tried": "Jeg kan se, at du allerede har {tried}, så de trin gentager vi ikke.",
        "promise_overdue": "Det beklager jeg: den {date} skrev vi \u201c{promise}\u201d, og fristen er overskredet "
                           "({due}).",
        "promise_open": "Den {date} noterede vi: \u201c{promise}\u201d",
        "promise_short_overdue": "Beklager, opfølgningen til {due} er forsinket.",
        "looking": "Jeg undersøger det lige nu og holder dig opdateret her.",
        "looking_short": "Jeg undersøger det nu og vender tilbage her.",
        "holding": "Tak for din tålmodighed{comma_name}. Jeg har din historik{ids_paren}, så du behøver ikke "
                   "forklare det igen. Jeg gennemgår det nu og vender tilbage her.",
        "kb": "Det gælder i dit tilfælde: {text}",
    },
}
T["sv"] = T["da"]  # close enough to be understood; better than English for a Swedish customer
TRIED_VERB = re.compile(r"\b(tried|restarted|rebooted|reset|factory[- ]reset|re-?installed|uninstalled|updated|"
                        r"cleared|swapped|replaced|unplugged|checked|called|contacted|uploaded|re-?uploaded|sent|"
                        r"submitted|disconnected|reconnected|re-?linked|power[- ]?cycled|paid|returned|"
                        r"rotated|regenerated|attached|faxed|pagué|intenté|reinicié|llamé|envié|probé|cambié|"
                        r"reiniciado|probado|cambiado|essayé|redémarré|réinitialisé|rebranché|débranché|changé|"
                        r"versucht|neu gestartet|zurückgesetzt|getauscht|prøvet|genstartet|tentei|reiniciei|troquei|"
                        r"provato|riavviato|geprobeerd|herstart|vedhæftet)\b", re.IGNORECASE)
STOP_PHRASE = re.compile(r"[,.;:!?()]|\b(and|but|so|because|then|which|y|et|und|og|e|mais|pero|aber|men)\b",
                         re.IGNORECASE)


def _first_name(customer_name: str | None) -> str | None:
    if not customer_name:
        return None
    first = customer_name.strip().split()[0]
    return first if re.fullmatch(r"[^\W\d_][^\W\d_'-]{1,30}", first) else None


def _ids(insights: CardInsights, limit: int) -> list[str]:
    ids = [f.value for f in insights.facts if f.kind in ID_KINDS]
    if not ids:
        ids = [f.value for f in insights.facts if f.kind in {"device", "last4", "code", "version", "flight"}]
    return ids[:limit]


def _tried_phrases(insights: CardInsights, limit: int = 3) -> list[str]:
    phrases: list[str] = []
    for item in insights.open_items:
        if item.kind != "tried":
            continue
        for m in TRIED_VERB.finditer(item.text):
            rest = item.text[m.start():]
            cut = STOP_PHRASE.search(rest, len(m.group()))
            phrase = rest[:cut.start()] if cut else rest
            phrase = " ".join(phrase.split()[:6]).strip()
            if phrase and not COMMITMENT.search(phrase) and not ASKING.search(phrase) and phrase not in phrases:
                phrases.append(phrase)
    return phrases[:limit]


def _join(values: list[str], lang: str) -> str:
    conj = {"en": "and", "es": "y", "fr": "et", "de": "und", "pt": "e", "it": "e", "nl": "en", "da": "og",
            "sv": "och"}.get(lang, "and")
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + f" {conj} " + values[-1]


def _promise(insights: CardInsights) -> OpenItem | None:
    promises = [o for o in insights.open_items if o.kind == "promise" and not ASKING.search(o.text)]
    if not promises:
        return None
    overdue = [p for p in promises if p.overdue]
    return (overdue or promises)[-1]


def _clean_quote(text: str, limit: int = 160) -> str:
    text = re.sub(r"\s+", " ", text).strip().strip("\u201c\u201d\"")
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + "…"
    return text


def _date(dt) -> str:  # noqa: ANN001 - datetime
    return f"{dt.strftime('%b')} {dt.day}"


def _safe_sentences(text: str) -> str:
    """Drop every sentence that asks for something; the rest is kept as written."""
    kept = [s for s in re.split(r"(?<=[.!…])\s+(?=\S)", text) if s.strip() and not ASKING.search(s)]
    return " ".join(kept)


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[^\W\d_]{4,}", text.lower())
            if w not in {"that", "this", "with", "have", "from", "your", "they", "there", "will", "would", "about",
                         "what", "when", "been", "were", "just", "still", "their", "them", "then", "than", "some"}}


# Tokens mixing letters and digits ("A-10293", "SB8200"): identifiers, not policy numbers.
ID_LIKE = re.compile(r"\b(?=[A-Za-z-]*\d)(?=[\d-]*[A-Za-z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+\b"
                     r"|\b(?=\w*\d)(?=\w*[A-Za-z])\w{5,}\b")


def _pick_snippet(snippets: Sequence[Snippet], context: str, known_text: str) -> tuple[Snippet, str] | None:
    words = _content_words(context)
    best: tuple[float, Snippet, str] | None = None
    for snip in snippets:
        if snip.source_type != "knowledge":
            continue
        # Headings and table rows are not sentences to quote.
        body = "\n".join(line.lstrip("-*• ").strip() for line in snip.text.splitlines()
                          if line.strip() and not line.lstrip().startswith(("#", "|")))
        sentences = [s for s in split_sentences(body) if not ASKING.search(s)]
        # Policy numbers ("48 hours", "$15") are the tenant's own; an id-like token (letters with digits) that
        # this customer never mentioned may belong to someone else: leave that sentence out.
        sentences = [s for s in sentences
                     if all(t.lower() in known_text.lower() for t in ID_LIKE.findall(s))]
        if not sentences:
            continue
        ranked = sorted(sentences, key=lambda s: -len(words & _content_words(s)))
        overlap = len(words & _content_words(" ".join(ranked[:2])))
        score = overlap + 2 * snip.score
        if overlap >= 2 and (best is None or score > best[0]):
            best = (score, snip, " ".join(ranked[:2]))
    return (best[1], best[2]) if best else None


PAST_REPLY_MIN_SIMILARITY = 0.4


def _pick_past_reply(snippets: Sequence[Snippet], context: str, lang: str, *, may_ask: bool
                     ) -> tuple[Snippet, str] | None:
    """The most fitting anonymised reply an agent gave another customer on a similar issue.

    No sentence that commits to money (promised to someone else, not to this customer), and no question
    unless nothing is known yet (`may_ask`: a first contact), since a question may ask for what is known.
    """
    words = _content_words(context)
    best: tuple[float, Snippet, str] | None = None
    for snip in snippets:
        if snip.source_type != "past_reply" or (detect_language(snip.text) or "en") != lang:
            continue
        text = " ".join(s for s in split_sentences(snip.text)
                        if not COMMITMENT.search(s) and (may_ask or (not ASKING.search(s) and "?" not in s)))
        overlap = len(words & _content_words(text))
        score = overlap + 2 * snip.score
        # Close in meaning (the index's cosine similarity), or a little less close but sharing a word.
        similar = snip.score >= PAST_REPLY_MIN_SIMILARITY + 0.1 or (
            overlap >= 1 and snip.score >= PAST_REPLY_MIN_SIMILARITY)
        if len(text) >= 20 and similar and (best is None or score > best[0]):
            best = (score, snip, text)
    return (best[1], best[2]) if best else None


def suggest(*, items: Sequence[HistoryItem], insights: CardInsights, message: str, channel: str,
            snippets: Sequence[Snippet], customer_name: str | None) -> list[SuggestedReply]:
    lang = detect_language(message) or insights.language or "en"
    if lang not in T:
        lang = insights.language if insights.language in T else "en"
    t = T[lang]
    name = _first_name(customer_name)
    short = channel in SHORT_CHANNELS
    ids = _ids(insights, 1 if short else 3)
    fact_sources = {f.value: f.interaction_id for f in insights.facts}
    id_sources = [fact_sources[i] for i in ids if i in fact_sources]
    promise = _promise(insights)
    tried = _tried_phrases(insights)

    body: list[str] = []
    sources: list[str] = list(dict.fromkeys(id_sources))
    # A first contact has no history to acknowledge: saying "I have your history" would ring false.
    first_contact = not ids and promise is None and not tried and len(
        {i.thread_id or i.interaction_id for i in items}) <= 1
    if ids:
        body.append((t["known_short"] if short else t["known"]).format(ids=_join(ids, lang)))
    else:
        body.append(t["first"] if first_contact else t["known_noid"])
    if promise is not None:
        if short and promise.overdue and promise.due:
            body.append(t["promise_short_overdue"].format(due=promise.due))
            sources.append(promise.interaction_id)
        elif not short:
            quote = _clean_quote(promise.text)
            key = "promise_overdue" if promise.overdue and promise.due else "promise_open"
            body.append(t[key].format(date=_date(promise.occurred_at), promise=quote, due=promise.due or ""))
            sources.append(promise.interaction_id)
    if tried and not short:
        body.append(t["tried"].format(tried=_join(tried, lang)))
        sources.extend(o.interaction_id for o in insights.open_items if o.kind == "tried")
    body.append(t["looking_short"] if short else t["looking"])
    main = _format(body, t, name, channel)

    replies = [SuggestedReply(text=main, sources=list(dict.fromkeys(sources)))]

    known_text = " ".join(i.text for i in items)
    context = message + " " + " ".join(o.text for o in insights.open_items if o.kind == "waiting_for")
    picked = _pick_snippet(snippets, context, known_text)
    if picked is not None:
        snip, text = picked
        kb_body = [t["kb"].format(text=_clean_quote(text, 220 if short else 400))]
        if ids and not short:
            kb_body.insert(0, t["known"].format(ids=_join(ids[:1], lang)))
        replies.append(SuggestedReply(text=_format(kb_body, t, name, channel),
                                      sources=list(dict.fromkeys(id_sources[:1] + [snip.source_id]))))

    past = _pick_past_reply(snippets, context, lang, may_ask=first_contact)
    if past is not None:
        snip, text = past
        similar = SuggestedReply(text=_format([text], t, name, channel, may_ask=first_contact),
                                 sources=list(dict.fromkeys(id_sources[:1] + [snip.source_id])))
        # On a first contact, what an agent answered a similar first message is the most useful draft.
        replies.insert(0, similar) if first_contact else replies.append(similar)
    if not first_contact:  # the main reply already is the holding reply of a first contact
        holding = t["holding"].format(comma_name=f", {name}" if name else "",
                                      ids_paren=f" ({_join(ids[:2], lang)})" if ids else "")
        replies.append(SuggestedReply(text=_format([holding], t, name, channel),
                                      sources=list(dict.fromkeys(id_sources[:2])) or
                                      ([items[-1].interaction_id] if items else [])))
    fallback = [items[-1].interaction_id] if items else []
    for r in replies:
        if not r.sources:
            r.sources = fallback  # every reply builds at least on the contact it answers
    replies = [r for r in replies if r.text.strip()]
    return replies[:2] + replies[-1:] if len(replies) > 3 else replies


def _format(body: list[str], t: dict[str, str], name: str | None, channel: str, *, may_ask: bool = False) -> str:
    text = " ".join(b for b in body if b)
    text = text if may_ask else _safe_sentences(text)
    if channel == "email":
        greeting = t["hi"].format(name=name) if name else t["hi_anon"]
        return f"{greeting}\n\n{text}\n\n{t['sign']}"
    if channel in SHORT_CHANNELS:
        if len(text) > SHORT_LIMIT:
            text = text[:SHORT_LIMIT].rsplit(" ", 1)[0].rstrip(",;:") + "…"
        return text
    if name and channel == "chat":
        text = f"{t['hi'].format(name=name).rstrip(',:')}! {text}"
    if len(text) > CHAT_LIMIT:
        text = text[:CHAT_LIMIT].rsplit(" ", 1)[0] + "…"
    return text
