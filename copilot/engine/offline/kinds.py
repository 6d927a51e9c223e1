"""The kinds of fact the whole engine knows (DESIGN §3): one enum, so extractors, state, summary and replies agree."""
from __future__ import annotations

from enum import StrEnum


class FactKind(StrEnum):
    # identifiers
    ORDER_ID = "order_id"
    ACCOUNT_NUMBER = "account_number"
    MEMBER_ID = "member_id"
    BOOKING_REF = "booking_ref"
    TICKET_ID = "ticket_id"
    CASE_ID = "case_id"
    TRACKING_NUMBER = "tracking_number"
    CLAIM_NUMBER = "claim_number"
    RMA = "rma"
    INVOICE_NUMBER = "invoice_number"
    METER = "meter"
    POLICY_NUMBER = "policy_number"
    PRESCRIPTION = "prescription"
    REFERENCE = "reference"
    REFUND_REF = "refund_ref"
    SERIAL_NUMBER = "serial_number"
    IMEI = "imei"
    WORK_ORDER = "work_order"
    DISPUTE_ID = "dispute_id"
    PATIENT_ID = "patient_id"
    PAYMENT_REF = "payment_ref"
    QUOTE_ID = "quote_id"
    SKU = "sku"
    FLIGHT = "flight"
    # payment instruments and contact details
    LAST4 = "last4"
    MASKED_NUMBER = "masked_number"
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    # values
    AMOUNT = "amount"
    DATE = "date"
    VERSION = "version"
    DEVICE = "device"
    ORGANISATION = "organisation"
    PERSON = "person"
    RATE = "rate"  # a figure per unit of time or use ("250/min", "40 req/s")
    CODE = "code"  # a short code named by a keyword ("code 7F", "queue ESC-PRI") or an uncommon acronym
    CONDITION = "condition"  # what the customer needs or lives with ("hard of hearing", "needs a chaperone")
    MEDICATION = "medication"  # a medicine named with its dose ("ibuprofen 400 mg")
    # what the customer already did (a short phrase)
    TRIED = "tried"
    # what an agent did (a past verb and its object, from agent lines and internal notes)
    ACTION = "action"
    # the customer's own key details (describe.py): a described item or problem, a product/place name, a count
    DESCRIPTION = "description"
    PRODUCT = "product"
    QUANTITY = "quantity"


# Identifier kinds: shown first on the card, subject to read-back confirmation and near-duplicate correction.
ID_KINDS: frozenset[FactKind] = frozenset({
    FactKind.ORDER_ID, FactKind.ACCOUNT_NUMBER, FactKind.MEMBER_ID, FactKind.BOOKING_REF, FactKind.TICKET_ID,
    FactKind.CASE_ID, FactKind.TRACKING_NUMBER, FactKind.CLAIM_NUMBER, FactKind.RMA, FactKind.INVOICE_NUMBER,
    FactKind.METER, FactKind.POLICY_NUMBER, FactKind.PRESCRIPTION, FactKind.REFERENCE, FactKind.REFUND_REF,
    FactKind.SERIAL_NUMBER, FactKind.IMEI, FactKind.WORK_ORDER, FactKind.DISPUTE_ID, FactKind.PATIENT_ID,
    FactKind.PAYMENT_REF, FactKind.QUOTE_ID, FactKind.SKU, FactKind.FLIGHT,
})
ID_KIND_VALUES: frozenset[str] = frozenset(k.value for k in ID_KINDS)
