"""Pattern extractors: identifiers, amounts, dates, names, and what customers tried / agents promised."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from copilot.engine.offline.dates import find_dates
from copilot.engine.offline.text import Sentence
from copilot.engine.schemas import HistoryItem

# Keyword before an identifier -> the fact kind (checked nearest first, within the same clause).
ID_KEYWORDS: list[tuple[str, str]] = [
    (r"work[- ]?order|\bWO\b", "work_order"),
    (r"tracking|waybill|shipment", "tracking_number"),
    (r"\border|ordre|pedido|commande|bestellung|bestilling", "order_id"),
    (r"\baccount|\bacct|\bcuenta|compte|konto|\bconta\b|customer (?:number|id)", "account_number"),
    (r"booking|reservation|confirmation|\bPNR|record locator|itinerary|bookingnummer|reserva|réservation",
     "booking_ref"),
    (r"ticket|\bcase\b|incident|\bINC\b|sag|caso|dossier|vorgang", "ticket_id"),
    (r"\bclaim|siniestro|reclamación|sinistre", "claim_number"),
    (r"\bRMA|return auth|return label|return number", "rma"),
    (r"invoice|\bbill\b|factura|facture|rechnung|faktura|fatura", "invoice_number"),
    (r"\bmeter|medidor|zähler|compteur|måler", "meter"),
    (r"policy|póliza|police|polizza|apólice", "policy_number"),
    (r"serial|\bS/?N\b|IMEI|MAC", "serial_number"),
    (r"model|modem|router|device|phone is|gateway|concentrator", "device"),
    (r"dispute|chargeback|disputa", "dispute_id"),
    (r"refund|reembolso|remboursement|erstattung|refundering|(?<!for )reference|\bref\b|referencia|référence|"
     r"referencenummer|\bARN\b|approval|authori[sz]ation|\bauth\b", "reference"),
    (r"\bMRN|patient|medical record", "patient_id"),
    (r"transfer|payment|pago|paiement|zahlung|betaling", "payment_ref"),
    (r"flight|vuelo|vol\b|flug|fly\b", "flight"),
    (r"\bseats?\b|asiento|siège|sitz|plads", "seat"),
    (r"version|release|build|firmware|hotfix|patch", "version"),
]
ID_KEYWORD_RES = [(re.compile(p, re.IGNORECASE), kind) for p, kind in ID_KEYWORDS]

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
PHONE = re.compile(r"(?<![\w$.,/-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w-])"
                   r"|(?<![\w$.,/-])\+\d{2}(?:[\s.-]?\d{2,4}){3,5}(?![\w-])")
MASKED = re.compile(r"(?<!\w)(?:\*{2,}|[xX•]{2,})(?:[-\s*xX•]*)\d{2,4}\b")
ENDING = re.compile(r"(?:(?P<what>\b[A-Z][\w-]*(?:\s[a-z]+)?|\b(?:card|line|account|number|phone|kort|tarjeta|"
                    r"carte|karte|cartão)\w*)\s+)?(?P<kw>ending(?: in)?|ends in|last (?:4|four)(?: digits)?(?: of)?|"
                    r"slutter på|terminad[ao] en|terminant par|endend auf|final|que termina en|terminado em)"
                    r"\s*(?:[:#]\s*)?(?P<digits>\d{4})\b", re.IGNORECASE)
AMOUNT = re.compile(
    r"(?:(?:US|CA|AU|NZ|R)?[$€£¥]\s?\d[\d,]*(?:\.\d{1,2})?|\b(?:USD|EUR|GBP|DKK|SEK|NOK|CHF|MXN|BRL)\s?\d[\d.,]*\d"
    r"|\b\d[\d.,]*\d?\s?(?:kr\.?|DKK|SEK|NOK|EUR|USD|GBP|CHF|euros?|dollars|pesos|reais|€)(?!\w))"
    r"(?:\s?(?:/|per\s|a\s|an\s)(?:mo|month|day|night|yr|year|week|hour|hr|min)\b)?")
RATE = re.compile(r"\b\d[\d,]*\s?(?:/|per\s)(?:min|minute|sec|second|s|hour|hr|day)\b(?!\w)")
# alphanumeric code: letters and digits together (WO-551207, acct_3Fq92Lk, SB8200, QK7M2D, TG-A7730512)
CODE = re.compile(r"(?<![\w@./-])(?=[\w./-]*\d)(?=[\w./-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9_./-]*[A-Za-z0-9](?![\w@-])"
                  r"(?:/\d+[A-Z]\b)*")
CAPS_CODE = re.compile(r"(?<![\w-])[A-Z]{2,}(?:[-_][A-Z0-9]{2,})+(?![\w-])|(?<![\w-])[B-DF-HJ-NP-TV-Z]{3,6}(?![\w-])")
LONG_NUMBER = re.compile(r"(?<![\w$.,/-])\d{5,}(?:[- ]\d{2,})*(?![\w.,]?\d)|(?<![\w$.,/-])\d{2,6}(?:[- ]\d{2,6}){2,}"
                         r"(?![\w-])|(?<![\w$.,/-])\d{3,}-\d{3,}(?![\w-])")
ISO_DATE = re.compile(r"(?:19|20)\d\d-[01]\d-[0-3]\d")
VERSION = re.compile(r"(?<![\w.])\d{1,4}\.\d{1,2}\.\d{1,3}(?![\w.]?\d)")
FLIGHT = re.compile(r"(?<![\w-])[A-Z]{2}\s?\d{2,4}(?![\w-])")
SEAT = re.compile(r"(?<![\w/])\d{1,2}[A-K](?:/\d{1,2}[A-K])+(?![\w/])")
ADDRESS = re.compile(r"\b\d{1,5}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][a-z]+\s+){1,3}(?:St|Street|Ave|Avenue|Rd|Road|Dr|Drive|"
                     r"Blvd|Boulevard|Ln|Lane|Ct|Court|Way|Pl|Place|Pkwy|Parkway|Ter|Terrace|Cir|Circle|Hwy|Highway|"
                     r"Loop|Trail|Sq|Square)\b\.?(?:,?\s*(?:Apt|Unit|Suite|Ste|#)\.?\s*\w+)?")
POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})\b|(?<=\b[A-Z]{2}\s)\d{5}(?:-\d{4})?\b")
PERSON = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Miss|Prof|Sr|Sra|Mme|Herr|Frau)\.?\s+[A-Z][a-z'-]+(?:\s+[A-Z][a-z'-]+)?")
ORG = re.compile(r"\b(?:[A-Z][A-Za-z&'-]+\s+){1,3}(?:Inc|LLC|Ltd|Bank|Loans|Mortgage|Heating|Plumbing|Pharmacy|"
                 r"Suites|Hotel|Inn|Airlines|Airways|Insurance|Credit Union|Savings|Repair|Clinic|Hospital|"
                 r"Electric|Energy|Motors|Auto|Roofing|Realty|Properties|Apartments|Dental|Medical|Imaging|"
                 r"Rentals?|Rent-A-Car|Body Shop|Collision|Movers|Storage|Services)\b")
CAPS_NAME = re.compile(r"\b[A-Z]{3,}(?:\s+[A-Z]{2,}){1,3}\b")
DEVICE = re.compile(r"\b(?:iPhone|iPad|MacBook|Apple Watch|AirPods|Galaxy|Pixel|Surface|ThinkPad|Kindle|Echo|"
                    r"PlayStation|Xbox|Switch|Roku|Chromecast|Arris|SURFboard|Surfboard|Netgear|Nighthawk|Orbi|eero|"
                    r"Linksys|TP-Link|Motorola|Inogen|ResMed|Fitbit|Garmin|Nest|Ring|Sonos|Dyson|Tesla|"
                    # vehicles: a rental, a claim or a repair is about a car as much as a phone
                    r"Toyota|Honda|Ford|Chevrolet|Chevy|Nissan|Hyundai|Kia|Subaru|Mazda|Volkswagen|BMW|Audi|"
                    r"Mercedes(?:-Benz)?|Jeep|Dodge|Volvo|Lexus|Acura|Peugeot|Renault|Skoda|Fiat)"
                    r"(?:\s+(?:[A-Z][\w-]*|\d[\w-]*|One|Pro|Max|Plus|Mini|Ultra|Air|Lite)){0,3}")
NOT_IDS = re.compile(r"^(?:\d+(?:am|pm|st|nd|rd|th|k|x|s|gb|mb|kb|tb|mbps|gbps|ghz|mhz|min|mins|hrs?|ms|sec|"
                     r"dbmv|db|lbs?|kg|mg|ft|in|mm|cm|km|mi|mph|kwh|kw|w|v|p|hz|yo|yr|yrs|mo|h|d|m)|"
                     r"[a-z]+\d|mp3|mp4|4g|5g|3g|covid-19|wi-fi|2fa|24/7|a1|b2b|p1|p2|p3|t3|t4|mp\d|\d+p)$",
                     re.IGNORECASE)
COMMON_CAPS = {"USPS", "UPS", "DHL", "SMS", "PDF", "FYI", "TBD", "BTW", "HTTP", "WWW", "NYC", "PST", "CST", "EST",
               "MST", "PDT", "CDT", "EDT", "UTC", "GMT", "CT", "PT", "ET", "DM", "TV", "ID", "PM", "AM", "MRI", "CSR",
               "MMS", "ETA", "OK", "ASAP", "LOL", "WTF", "OMG", "THX", "PLS", "PLZ", "TBH", "IMO", "DNS", "VPN", "LTE",
               "SSN", "DOB", "ACH", "APR", "ATM", "PIN", "CVV", "SSL", "URL", "API", "CEO", "VP", "HR", "IT", "QA",
               "FAQ", "RSVP", "NW", "NE", "SW", "SE", "DMV", "IRS", "BBB", "FCC", "FTC", "CFPB", "HVAC", "LCD", "LED",
               "USB", "HDMI", "DVR", "GPS", "SIM", "MFA", "SSO", "CRM", "XL", "XXL", "XS", "NPS", "KYC", "AML", "CC",
               "BCC", "TX", "NY", "CA", "FL", "WA", "MN", "WTH", "SMH", "PPS", "TSA", "DDS", "RN", "MD", "PHD",
               "SHS", "STS", "DSL", "PNR", "NSF", "ACT", "TSB"}


@dataclass
class RawFact:
    kind: str
    value: str
    item: HistoryItem
    pos: int  # position in the item's text, for "not X" corrections
    strength: float  # how useful at a glance (ids high, dates low)
    key: str = field(default="")  # normalised value for dedupe
    rejected: bool = False


def norm_key(value: str) -> str:
    return re.sub(r"[^0-9a-z]", "", value.lower())


def _kind_before(text: str, start: int, default: str) -> str:
    window = text[max(0, start - 48):start]
    window = re.split(r"[.!?\n;]|\band\b|,\s(?=[A-Z])", window)[-1]
    best: tuple[int, str] | None = None
    for pattern, kind in ID_KEYWORD_RES:
        for m in pattern.finditer(window):
            if best is None or m.end() > best[0]:
                best = (m.end(), kind)
    return best[1] if best else default


def _kind_of_prefix(value: str) -> str | None:
    """"RMA-55310", "INV-22871", "CLM-26-0831447": the letters in front of an id name its kind."""
    prefix = re.match(r"[A-Za-z]{2,5}(?=[-_]?\d)", value)
    if not prefix:
        return None
    return PREFIX_KINDS.get(prefix.group().upper())


PREFIX_KINDS = {"WO": "work_order", "RMA": "rma", "INV": "invoice_number", "CLM": "claim_number",
                "ORD": "order_id",
                "TKT": "ticket_id", "CASE": "ticket_id", "INC": "ticket_id", "DSP": "dispute_id",
                "POL": "policy_number",
                "ACCT": "account_number", "ACC": "reference", "REF": "reference", "SN": "serial_number"}


def _rejected_by_correction(text: str, start: int, end: int) -> bool:
    """"it's 4471 not 4417", "not 9100447216", "instead of X": the id after `not` was a mistake."""
    before = text[max(0, start - 14):start].lower()
    after = text[end:end + 30].lower()
    if re.search(r"\b(not|no|instead of|rather than|wrong|ikke|nicht|pas|no es)\s*[,:-]?\s*(it's\s+|it is\s+)?$",
                 before):
        return True
    return bool(re.match(r"\??\s*[-–,]?\s*(no|nope|wrong|incorrect|that's wrong|that is wrong)\b", after)
                and re.search(r"\?", text[end:end + 3]))


def _spans_overlap(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in taken)


def extract_identifiers(item: HistoryItem, text: str) -> list[RawFact]:
    """Every identifier-like value in one item's searchable text, with its kind."""
    out: list[RawFact] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, value: str, start: int, end: int, strength: float) -> None:
        value = value.strip(" .,;:")
        if not value or len(value) > 200:
            return
        out.append(RawFact(kind, value, item, start, strength, norm_key(value),
                           rejected=_rejected_by_correction(text, start, end)))
        taken.append((start, end))

    for m in EMAIL.finditer(text):
        add("email", m.group(), m.start(), m.end(), 0.55)
    for m in ENDING.finditer(text):
        what = (m.group("what") or "").strip()
        if what.lower() in {"the", "a", "your", "my", "is", "it", "and", "was"}:
            what = ""
        value = f"{what} {m.group('kw')} {m.group('digits')}".strip()
        add("last4", value, m.start(), m.end(), 0.75)
    for m in MASKED.finditer(text):
        if not _spans_overlap(m.span(), taken):
            add("masked_number", m.group(), m.start(), m.end(), 0.6)
    for m in AMOUNT.finditer(text):
        if _spans_overlap(m.span(), taken):
            continue
        add("amount", amount_with_context(text, m.start(), m.end()), m.start(), m.end(), 0.5)
        out[-1].key = norm_key(m.group())
    for m in VERSION.finditer(text):
        if not _spans_overlap(m.span(), taken):
            add("version", m.group(), m.start(), m.end(), 0.6)
    for m in PHONE.finditer(text):
        if _spans_overlap(m.span(), taken):
            continue
        kind = _kind_before(text, m.start(), "phone")
        add(kind if kind in {"account_number", "order_id", "ticket_id", "claim_number", "policy_number",
                             "reference", "tracking_number"} else "phone", m.group(), m.start(), m.end(), 0.6)
    for m in SEAT.finditer(text):
        if not _spans_overlap(m.span(), taken):
            add("seat", m.group(), m.start(), m.end(), 0.55)
    for m in CODE.finditer(text):
        value = m.group()
        if _spans_overlap(m.span(), taken) or NOT_IDS.match(value) or len(value) < 4:
            continue
        if re.search(r"\.(jpe?g|png|gif|heic|pdf|docx?|csv|xlsx?|txt|mp4|mov|zip)$", value, re.IGNORECASE):
            continue  # attachment names
        if re.fullmatch(r"\d+-[a-z]+", value) or re.search(r"\d(?:am|pm)\b", value, re.IGNORECASE):
            continue  # "4-way", "2-step", time ranges such as "8am-12pm"
        if re.fullmatch(r"[\d/.:-]+", value) or re.fullmatch(r"\d{1,2}[:.]\d{2}(?:am|pm)?", value, re.IGNORECASE):
            continue
        if re.fullmatch(r"[A-Za-z]+-\d{1,2}", value) and value.split("-")[0].lower() in {"covid", "day", "step"}:
            continue
        letters = sum(ch.isalpha() for ch in value)
        digits = sum(ch.isdigit() for ch in value)
        if re.fullmatch(r"[a-z]{3,}\d{1,2}", value):  # words with a digit stuck on ("bob12")
            continue
        strength = 1.0 if ("-" in value or "_" in value or digits >= 4) else 0.85
        if letters > 0 and digits > 0 and value.lower() == value and "_" not in value and "-" not in value:
            strength = 0.6  # lower-case handles and words with digits are rarely references
        kind = _kind_of_prefix(value) or _kind_before(text, m.start(), "reference")
        if kind == "reference" and re.match(r"[A-Z]{1,3}\d{2,5}[A-Z]?$", value):
            kind = "device" if digits >= 3 else "reference"
        add(kind, value, m.start(), m.end(), strength)
    for m in LONG_NUMBER.finditer(text):
        value = m.group()
        if _spans_overlap(m.span(), taken) or re.fullmatch(r"(19|20)\d\d", value) or ISO_DATE.fullmatch(value):
            continue
        if re.fullmatch(r"\d{5}", value) and re.search(r"\b[A-Z]{2}\s$", text[max(0, m.start() - 4):m.start()]):
            add("postcode", value, m.start(), m.end(), 0.45)
            continue
        kind = _kind_before(text, m.start(), "reference")
        digits_only = re.sub(r"\D", "", value)
        if kind == "reference" and re.fullmatch(r"1?[2-9]\d\d[2-9]\d{6}", digits_only):
            kind = "phone"  # an unlabelled valid North American number, e.g. in a contact form
        add(kind, value, m.start(), m.end(), 0.6 if kind == "phone" else 0.95)
    for m in FLIGHT.finditer(text):
        if _spans_overlap(m.span(), taken):
            continue
        if re.search(r"(flight|flying|fly|vuelo|vol|flug|fly|on|to)\s*$", text[max(0, m.start() - 12):m.start()],
                     re.IGNORECASE) and not NOT_IDS.match(m.group().replace(" ", "")):
            add("flight", m.group(), m.start(), m.end(), 0.7)
    for m in RATE.finditer(text):
        if not _spans_overlap(m.span(), taken):
            add("limit", m.group(), m.start(), m.end(), 0.45)
    for m in CAPS_CODE.finditer(text):
        value = m.group()
        if _spans_overlap(m.span(), taken) or value in COMMON_CAPS or len(value) < 3 or NOT_IDS.match(value):
            continue
        add(_kind_before(text, m.start(), "code"), value, m.start(), m.end(), 0.5)
    for m in ADDRESS.finditer(text):
        if not _spans_overlap(m.span(), taken):
            add("address", m.group(), m.start(), m.end(), 0.55)
    for m in POSTCODE.finditer(text):
        if not _spans_overlap(m.span(), taken):
            add("postcode", m.group(), m.start(), m.end(), 0.4)
    for m in DEVICE.finditer(text):
        if not _spans_overlap(m.span(), taken) and len(m.group()) > 4:
            add("device", m.group(), m.start(), m.end(), 0.55)
    for m in PERSON.finditer(text):
        add("person", m.group(), m.start(), m.end(), 0.4)
    for m in ORG.finditer(text):
        if not _spans_overlap(m.span(), taken):
            add("organisation", m.group(), m.start(), m.end(), 0.45)
    for m in CAPS_NAME.finditer(text):
        value = m.group()
        words = value.split()
        if _spans_overlap(m.span(), taken) or any(w in COMMON_CAPS for w in words) or len(value) < 8:
            continue
        if not all(re.search(r"[AEIOUY]", w) for w in words):
            continue
        add("merchant", value, m.start(), m.end(), 0.35)
    for written, _when, start, end in find_dates(text, item.occurred_at):
        if not _spans_overlap((start, end), taken):
            add("date", written, start, end, 0.3)
    return out


def amount_with_context(text: str, start: int, end: int) -> str:
    """"$40" -> "$40 credit"; "usual $140"; "duplicate $35 activation fee": the words that say what it is."""
    before = re.split(r"[.!?\n:;(]", text[max(0, start - 40):start])[-1]
    after = re.split(r"[.!?\n,;:)(]", text[end:end + 45])[0]
    before_words = before.split()[-3:]
    after_words = after.split()[:4]
    stop_after = {"to", "on", "was", "is", "will", "has", "and", "but", "that", "which", "because", "if", "so",
                  "were", "are", "back", "by", "in", "at", "from", "into", "per", "each", "i", "we", "you", "it"}
    kept_after: list[str] = []
    for w in after_words:
        if w.lower() in stop_after or re.match(r"[$€£\d]", w):
            break
        kept_after.append(w)
    value = " ".join(before_words + [text[start:end]] + kept_after)
    return value.strip(" -")


# What the customer already did (first person, past or "already").
TRIED = re.compile(
    r"\b(?:I(?:'ve| have)?|we(?:'ve| have)?|already|also)\s+(?:already\s+|also\s+|even\s+|just\s+)*(?:tried|restarted|"
    r"rebooted|reset|re-?installed|uninstalled|updated|cleared|swapped|replaced|unplugged|plugged|checked|called|"
    r"contacted|emailed|uploaded|re-?uploaded|sent|submitted|resubmitted|asked|disconnected|reconnected|re-?linked|"
    r"power[- ]?cycled|factory[- ]reset|turned|switched|paid|returned|dropped off|mailed|shipped|filed|spoke|talked|"
    r"went|looked|did|done|followed|changed|rotated|regenerated|removed|deleted|attached|faxed|took)\b"
    r"|\bdid a (?:factory )?reset\b|\b(?:tried|already did that|already done)\b"
    r"|\b(?:ya (?:he |hemos )?(?:pagué|intenté|reinicié|llamé|envié|mandé|probé|cambié|revisé|devolví|desconecté|"
    r"reiniciado|probado|cambiado|enviado|llamado|pagado|devuelto)|"
    r"j'ai (?:déjà |aussi |même |bien )*(?:essayé|redémarré|réinitialisé|rebranché|débranché|branché|changé|remplacé|"
    r"appelé|envoyé|payé|vérifié|testé|renvoyé|retourné)|déjà (?:fait|essayé)|"
    r"ich habe\b[^.!?\n]{0,60}?\b(?:versucht|neu gestartet|angerufen|geschickt|bezahlt|zurückgesetzt|getauscht|"
    r"ausgetauscht|überprüft|zurückgeschickt)|jeg har (?:allerede |også )?"
    r"(?:prøvet|genstartet|ringet|sendt|betalt|vedhæftet|skiftet|nulstillet)|já (?:tentei|reiniciei|liguei|enviei|"
    r"paguei|troquei|verifiquei|devolvi)|ho (?:già |anche )?(?:provato|riavviato|chiamato|inviato|pagato|cambiato|"
    r"resettato|controllato)|ik heb\b[^.!?\n]{0,60}?\b(?:geprobeerd|herstart|opnieuw opgestart|gebeld|verstuurd|"
    r"betaald|vervangen|gereset))",
    re.IGNORECASE)
# What an agent promised (future, or a dated commitment).
PROMISE = re.compile(
    r"\b(?:I'll|I will|we'll|we will|I'm going to|we're going to|I am going to|you'll (?:get|receive|see|hear|have)|"
    r"you will (?:get|receive|see|hear|have)|will (?:be|get|receive|call|email|text|reach|send|ship|arrive|show|"
    r"follow|contact|update|process|post|appear|go out|come|carry|review|reship|credit|refund|extend|stay|remain|"
    r"not)|should (?:arrive|show|be|appear|post|receive)|expect|promised?|guarantee|follow(?:ing)? up|"
    r"call (?:you |cx )?"
    r"back|callback|by (?:mon|tue|wed|thu|fri|sat|sun|tomorrow|end of|eod|cob|the end)\w*|within \d|"
    r"vamos a|le (?:llamaremos|enviaremos)|se le|nous allons|je vais|vous recevrez|wir werden|sie erhalten|vi vil|"
    r"du får|bliver|vai ser|vamos|iremos|receberá)\b",
    re.IGNORECASE)
# What an agent did (past, first person or passive).
ACTION = re.compile(
    r"\b(?:I(?:'ve| have)|we(?:'ve| have)|has been|have been|was|were|is now|are now)\s+(?:also\s+|just\s+|already\s+|"
    r"now\s+)?(?:issued|submitted|added|opened|escalated|requested|scheduled|credited|refunded|waived|reserved|"
    r"applied|created|filed|placed|sent|set up|booked|extended|noted|flagged|reversed|processed|arranged|approved|"
    r"cancell?ed|updated|confirmed|put|removed|reactivated|restored|re-?added|rebooked|moved|assigned|"
    r"corrected|adjusted|released|re-?opened|closed|denied|reconnected|replaced|rotated|raised|lifted|"
    r"backdated|matched|verified|changed|transferred|reported|forwarded|logged|generated|issued|applied)\b"
    r"|\b(?:opened|replaced|issued|submitted|escalated|credited|refunded|waived|reserved|approved|reversed|"
    r"rebooked|re-?added|assigned|sent|scheduled|created|extended|closed|denied|told|advised|confirmed|"
    r"completed|installed|found|called|emailed|texted|processed|applied|set|noted|flagged|left|offered)\b",
    re.IGNORECASE)
# What an agent found or explained (the cause, a state) - worth keeping like an action.
FINDING = re.compile(
    r"\b(?:was|were|has been|have been|had been|got|is|are)\s+(?:\w+\s+)?(?:\w+-)?\w+(?:ed|en)\b"
    r"|\b(?:because|due to|caused by|turns out|the reason|on hold|paused|suspended|expires?|expired)\b"
    r"|\b(?:I'm|I am|we're|we are)\s+\w+ing\b|\b(?:what )?(?:I|we) can (?!see|tell|understand|imagine|hear)\w+"
    r"|\b(?:anoté|puse|abrí|envié|registré|programé|cancelé|reembolsé|hemos|he \w+(?:ado|ido)|"
    r"j'ai \w+é|nous avons|ich habe \w+t|wir haben|jeg har|vi har|eu \w+ei|nós \w+amos|abbiamo|ho \w+ato|"
    r"ik heb|wij hebben)\b",
    re.IGNORECASE)
ACKNOWLEDGEMENT = re.compile(r"^(?:ok(?:ay)?|thanks?|thank you|thx|ty|great|perfect|cool|yes|no|sure|bye|"
                             r"you're welcome|have a (?:good|great|nice) \w+|sounds good|got it)\b[\s\w,!.']{0,30}$",
                             re.IGNORECASE)
OPEN_PROBLEM = re.compile(
    r"\b(?:still|never|not|n't|no longer|again|nobody|nothing|no one|wrong|missing|broken|charged|overcharged|"
    r"waiting|wait|when|where|why|how|what|need|want|help|issue|problem|error|fail\w*|locked|drop\w*|denied|"
    r"late|past due|instead|todavía|nunca|no|nadie|sigo|sin|toujours|jamais|rien|aucune?|personne|pas|"
    r"immer noch|nicht|keine?|noch|niemand|stadig|ikke|ingen|aldrig|ainda|não|ninguém|nada|ancora|niente|non|"
    r"nessuno|mai|nog steeds|niet|geen|nooit)\b|\?",
    re.IGNORECASE)


def classify(sentence: Sentence) -> str:
    text = sentence.text
    if ACKNOWLEDGEMENT.match(text) or len(text) < 12:
        return "other"
    if sentence.speaker == "customer":
        if TRIED.search(text) and not re.search(r"\?\s*$", text):
            return "tried"
        if OPEN_PROBLEM.search(text):
            return "problem"
        return "other"
    if sentence.speaker in {"agent", "system", "bot"}:
        if re.search(r"\?\s*$", text):
            return "other"  # questions are not commitments
        if PROMISE.search(text):
            return "promise"
        if sentence.speaker == "bot":
            return "other"
        if sentence.internal and len(text.split()) >= 5:
            return "action"  # internal notes record what was done or found, whatever the grammar
        if ACTION.search(text) or FINDING.search(text):
            return "action"
    return "other"
