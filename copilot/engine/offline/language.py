"""Language and sentiment of a message from stop-word and lexicon counts (no model, no network)."""
from __future__ import annotations

import re


def _words(text: str) -> set[str]:
    return set(text.split())


STOPWORDS: dict[str, set[str]] = {
    "en": _words("the and is are was were to of in it you i my me we our your this that not have has had for on "
                 "with be at but they what when still just can will would please thanks no yes"),
    "es": _words("el la los las de del que y en un una es por para con no mi me se lo le ya pero muy su al como "
                 "hoy ustedes usted está estoy fue son gracias favor también porque todavía nada"),
    "fr": _words("le la les de des du et est un une pour pas je ne que qui en mon ma mes vous nous il elle au aux "
                 "avec sur ce cette toujours merci bonjour rien été ai suis"),
    "de": _words("der die das und ist nicht ich ein eine zu mit den dem des auf für es sie wir mein meine noch "
                 "immer bitte danke habe hat war aber auch wurde kein keine"),
    "pt": _words("o a os as de do da dos das que e em um uma é não meu minha para com por se eu você vocês mas "
                 "ainda obrigado obrigada nada já foi está estou"),
    "it": _words("il lo la gli le di del della che e è un una non mio mia per con sono ho ancora grazie ma anche "
                 "questo questa nulla già stato"),
    "nl": _words("de het een en is niet ik mijn van dat die te met op voor nog zijn wij jullie maar al geen heb "
                 "heeft bedankt alstublieft"),
    "da": _words("og er det at en jeg ikke på til med har den de af for vi mit min som nu stadig hej tak hvad "
                 "hvordan mig kan vil ingen der igen"),
    "sv": _words("och är det att en jag inte på till med har den de av för vi mitt min som nu fortfarande hej "
                 "tack vad hur mig kan ingen"),
    "tl": _words("ang ng mga sa na ko mo po ba talaga ako siya kami hindi pa"),
}
# Characters that settle close calls between related languages.
MARKERS: dict[str, str] = {"ñ": "es", "¿": "es", "¡": "es", "ç": "fr", "œ": "fr", "ß": "de", "ã": "pt", "õ": "pt",
                           "æ": "da", "ø": "da", "å": "da"}
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

NEGATIVE = _words("still never not nothing nobody no angry upset furious frustrated terrible awful horrible worst "
                  "ridiculous unacceptable again wrong broken disappointed annoyed useless done complaint cancel "
                  "refund dead killing worried scam joke waste lost missing late overcharged charged crickets fed "
                  "sick tired seriously hate damn lied todavía nunca nada nadie molesto furiosa furioso mal peor "
                  "ya encore jamais rien toujours énervé nie nichts immer noch ärgerlich schlecht stadig ingen "
                  "ikke træt aldrig ainda péssimo")
POSITIVE = _words("thanks thank great perfect awesome appreciate appreciated works working resolved fixed happy "
                  "love excellent glad amazing wonderful helpful gracias perfecto genial merci parfait danke super "
                  "tak obrigado obrigada grazie bedankt")


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of `text`, or None when there is too little text to tell."""
    words = [w.lower() for w in WORD.findall(text or "")]
    if not words:
        return None
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in STOPWORDS.items()}
    for ch, lang in MARKERS.items():
        if ch in text.lower():
            scores[lang] = scores.get(lang, 0) + 2
    best = max(scores, key=lambda k: scores[k])
    if scores[best] == 0:
        return "en" if all(w.isascii() for w in words) else None
    if scores[best] == scores.get("en", 0):
        return "en"
    if scores[best] < 2 and scores[best] < 0.2 * len(words):
        return None  # one shared little word ("di", "de") in a long text is no evidence of a language
    return best


def detect_sentiment(text: str) -> str:
    """negative | neutral | positive for one customer message."""
    words = [w.lower() for w in WORD.findall(text or "")]
    neg = sum(1 for w in words if w in NEGATIVE)
    pos = sum(1 for w in words if w in POSITIVE)
    neg += text.count("!!") + text.count("??")
    shouted = sum(1 for w in WORD.findall(text or "") if len(w) >= 4 and w.isupper())
    neg += min(shouted, 3)
    if neg >= pos + 2 or (neg > pos and neg >= 1 and pos == 0):
        return "negative"
    if pos > neg:
        return "positive"
    return "neutral"
