"""The redact stage: a table of secrets that must go and look-alikes that must stay, then the stage in ingest."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from copilot.database.core import Database
from copilot.interactions.models import Interaction
from copilot.interactions.redact import digit_runs, normalise_text, redact_body, redact_text
from tests.conftest import Api, make_record

# (text, a fragment that must be gone, the placeholder that must be there)
SECRETS = [
    ("my card is 4111 1111 1111 1111 thanks", "1111 1111 1111", "[card ••1111]"),
    ("card 4111111111111111", "4111111111111111", "[card ••1111]"),
    ("visa 4111-1111-1111-1111 please", "4111-1111", "[card ••1111]"),
    ("mastercard 5555 5555 5555 4444", "5555 5555 5555", "[card ••4444]"),
    ("amex 3782 822463 10005", "822463", "[card ••0005]"),
    ("discover 6011 1111 1111 1117", "6011 1111", "[card ••1117]"),
    ("jcb 3530 1113 3330 0000", "3530 1113", "[card ••0000]"),
    ("diners 3056 930902 5904", "930902", "[card ••5904]"),
    ("4012888888881881 is the one I used", "4012888888881881", "[card ••1881]"),
    ("the number is 5555 5555 5555\n4444 sorry it wrapped", "5555 5555 5555", "[card ••4444]"),
    ("Customer: it's four one one one, one one one one, one one one one, one one one one",
     "four one one one, one", "[card ••1111]"),
    ("Customer: five five five five five five five five five five five five four four four four",
     "five five five five five", "[card ••4444]"),
    ("Customer: four triple one, double one double one, one one one one, one one one one", "triple one", "[card"),
    ("card 4111 1111 1111 1111 exp 09/29 cvv 737", "737", "[cvv]"),
    ("card 4111 1111 1111 1111 exp 09/29 cvv 737", "09/29", "[expiry]"),
    ("visa 4111 1111 1111 1111, 11/28, security code 4242", "11/28", "[expiry]"),
    ("the CVC is 913", "913", "[cvv]"),
    ("the three digits on the back are 482", "482", "[cvv]"),
    ("expiration date 03/2030 on the card", "03/2030", "[expiry]"),
    ("Agent: and the CVV? Customer: nine one three", "nine one three", "[cvv]"),
    ("IBAN GB82 WEST 1234 5698 7654 32", "1234 5698", "[iban ••5432]"),
    ("mein IBAN ist DE89370400440532013000", "370400440532013000", "[iban ••3000]"),
    ("FR1420041010050500013M02606 pour le remboursement", "20041010050500013", "[iban ••2606]"),
    ("ES9121000418450200051332", "21000418450200051332", "[iban ••1332]"),
    ("NL91ABNA0417164300 graag", "ABNA0417164300", "[iban ••4300]"),
    ("routing 021000021 and account 4401882991", "021000021", "[routing number]"),
    ("routing 021000021 and account 4401882991", "4401882991", "[bank account ••2991]"),
    ("my checking account number is 00123456789", "00123456789", "[bank account ••6789]"),
    ("bank details: sort code 20-00-00, account 55779911", "20-00-00", "[sort code]"),
    ("bank details: sort code 20-00-00, account 55779911", "55779911", "[bank account ••9911]"),
    ("SSN 123-45-6789", "123-45-6789", "[ssn]"),
    ("my social security number is 219 09 9999", "219 09 9999", "[ssn]"),
    ("social security number 219099999", "219099999", "[national id]"),
    ("Customer: my SSN is two one nine, zero nine, nine nine nine nine", "two one nine", "[national id]"),
    ("passport number X1234567 for the booking", "X1234567", "[national id]"),
    ("my DNI es 12345678Z", "12345678Z", "[national id]"),
    ("my password is Hunter2!", "Hunter2", "[password]"),
    ("password: correct-horse-battery-9", "correct-horse-battery-9", "[password]"),
    ("the pw=Tr0ub4dor&3 ok", "Tr0ub4dor&3", "[password]"),
    ("mi contraseña es Gato#1977", "Gato#1977", "[password]"),
    ("mon mot de passe est Soleil2026", "Soleil2026", "[password]"),
    ("mein Passwort ist Sommer!24", "Sommer!24", "[password]"),
    ("password is \"blue whale\" with a space", "blue", "[password]"),
    ("I changed the password to Winter99 yesterday", "Winter99", "[password]"),
    ("my PIN is 4821", "4821", "[pin]"),
    ("PIN: 990412", "990412", "[pin]"),
    ("your verification code is 482913", "482913", "[code]"),
    ("the one-time code I got was 771 204", "771", "[code]"),
    ("2FA code G-558102", "558102", "[code]"),
    ("sign-in code: 30117", "30117", "[code]"),
    ("min kode er 4821 og engangskode 552781", "552781", "[code]"),
    ("api key sk-proj-abcdefghijklmnop1234 works", "sk-proj-abcdefghijklmnop1234", "[token]"),
    ("here is ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[token]"),
    ("AWS AKIAIOSFODNN7EXAMPLE in the config", "AKIAIOSFODNN7EXAMPLE", "[token]"),
    ("token: 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "[token]"),
    ("Authorization bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N", "eyJhbGci",
     "[token]"),
]

# Look-alikes that carry no secret: each must come through unchanged.
KEEP = [
    "order 4417-2231-9981 still hasn't shipped",
    "tracking 1Z999AA10123456784 shows delivered",
    "USPS tracking 9400111899223456789012",
    "FedEx tracking 123456789012",
    "IMEI 490154203237518 on the claim form",
    "IMEI 356938035643809",
    "call me at (415) 555-0134 or +44 20 7946 0958",
    "refund of $2,317.00 was processed on Dec 2",
    "4111 1111 1111 1112 is not a real card",
    "the appointment is 12/27 at 10am",
    "my password is not working since the update",
    "the password reset link expired",
    "my password is expired, can you reset it?",
    "booking confirmation code ZX81KQ for two nights",
    "invoice INV-2026-0042 shows the wrong amount",
    "account number ACC-550912 on the bill",
    "ticket 88120 and case 4410-22",
    "serial SN-7781-2299-01",
    "I paid with my card ending 4242",
    "the code on the receipt is ZK4471",
    "meter 30018822 read 4512 kWh",
    "postcode SW1A 1AA, apartment 4B",
    "customer id 5519820 in the CRM",
    "my social media handle is on the form",
    "sin el pedido 7781234 no puedo hacer nada",
    "flight UA 1234 on 2026-03-12",
    "the voucher SAVE-2026 gave 15% off",
]


@pytest.mark.parametrize(("text", "gone", "placeholder"), SECRETS)
def test_secret_is_redacted(text: str, gone: str, placeholder: str) -> None:
    redacted = redact_text(text)
    assert gone not in redacted
    assert placeholder in redacted


@pytest.mark.parametrize("text", KEEP)
def test_look_alike_stays(text: str) -> None:
    assert redact_text(text) == text


def test_invisible_and_full_width_characters_do_not_hide_a_card() -> None:
    hidden = "card 4111\u200b1111\u200d1111\u20601111 and ４１１１ １１１１ １１１１ １１１１"
    assert normalise_text(hidden) == "card 4111111111111111 and 4111 1111 1111 1111"
    assert redact_text(normalise_text(hidden)) == "card [card ••1111] and [card ••1111]"


def test_table_is_large_enough() -> None:
    assert len(SECRETS) + len(KEEP) >= 60


def test_spoken_digits_form_one_run() -> None:
    runs = digit_runs("it's four one one one, one one one one and then 12")
    assert [r.digits for r in runs] == ["41111111", "12"]


def test_redaction_is_linear_on_long_runs() -> None:
    # A pattern with nested quantifiers would take minutes on these; bounded work returns at once.
    for junk in ("*" * 20000, "•" * 20000, "1 " * 20000, "x" * 50000, " " * 50000, "4" * 20000):
        assert isinstance(redact_text("card " + junk), str)


def test_webhook_bodies_keep_their_format() -> None:
    form = b"From=%2B14155550134&Body=card+4111+1111+1111+1111+exp+09%2F29"
    out = redact_body(form, "application/x-www-form-urlencoded").decode()
    assert "4111+1111" not in out and "From=%2B14155550134" in out and "%5Bcard" in out
    body = json.dumps({"message": {"text": "my password is Hunter2!", "id": 7}}).encode()
    parsed = json.loads(redact_body(body, "application/json"))
    assert parsed == {"message": {"text": "my password is [password]!", "id": 7}}


def test_ingest_stores_and_shows_only_the_redacted_text(api: Api, settings) -> None:  # noqa: ANN001 - fixture
    record = make_record(customer={"email": "ines@example.org"}, subject="pin 5521 reset", metadata={"note": "cvv 123"},
                         text="Order QX-4471 is late. My card is 4111 1111 1111 1111, SSN 123-45-6789, "
                              "password is Pa55word!")
    assert api.ingest("redact-shop", [record])["created"] == 1
    found = api.resolve("redact-shop", "email:ines@example.org")
    card = api.client.get(f"/v1/customers/{found['customer_id']}/context", headers=api.auth("redact-shop", "agent"))
    shown = json.dumps(card.json(), ensure_ascii=False)
    stored = Database(settings.sqlalchemy_url)
    with stored.session() as session:
        row = session.scalars(select(Interaction)).one()
    at_rest = json.dumps([row.text, row.subject, row.metadata_], ensure_ascii=False)
    for secret in ("4111 1111", "123-45-6789", "Pa55word", "5521", "cvv 123"):
        assert secret not in shown and secret not in at_rest
    assert "QX-4471" in shown and "[card ••1111]" in at_rest


def test_the_message_asked_about_is_redacted_before_it_is_stored(api: Api, settings) -> None:  # noqa: ANN001
    api.ingest("redact-shop", [make_record(customer={"email": "noor@example.org"}, text="Where is order QX-7712?")])
    found = api.resolve("redact-shop", "email:noor@example.org")
    resp = api.client.post(f"/v1/customers/{found['customer_id']}/suggestions",
                           headers=api.auth("redact-shop", "agent"),
                           json={"message": "my card is 4111 1111 1111 1111, order QX-7712", "channel": "chat"})
    assert resp.status_code == 200 and "4111 1111" not in resp.text
    with Database(settings.sqlalchemy_url).session() as session:
        stored = session.execute(text("SELECT message FROM suggestions")).scalars().all()
    assert stored and all("4111 1111" not in m and "[card ••1111]" in m for m in stored)
