"""Identifier normalisation and the KIND:VALUE notation."""
from __future__ import annotations

import pytest

from copilot.customers.identity import IdentityError, IdentityRef, identities_from_block, parse_identity


@pytest.mark.parametrize(("text", "expected"), [
    ("email: Dana.Okonkwo@Example.COM ", IdentityRef("email", "dana.okonkwo@example.com")),
    ("phone:(415) 555-0134", IdentityRef("phone", "+14155550134")),
    ("phone:+44 20 7946 0958", IdentityRef("phone", "+442079460958")),
    ("twitter:@DanaW", IdentityRef("twitter", "danaw")),
    ("instagram:dana.w", IdentityRef("instagram", "dana.w")),
    ("ext:zendesk:39281", IdentityRef("ext:zendesk", "39281")),
    ("ext:Shopify:gid://shopify/Customer/1", IdentityRef("ext:shopify", "gid://shopify/Customer/1")),
])
def test_parse_identity_normalises(text: str, expected: IdentityRef) -> None:
    assert parse_identity(text, region="US") == expected


def test_phone_region_comes_from_settings() -> None:
    assert parse_identity("phone:020 7946 0958", region="GB").value == "+442079460958"
    assert parse_identity("phone:0412 345 678", region="AU").value == "+61412345678"


@pytest.mark.parametrize("text", ["dana@example.com", "email:", "email:nope", "phone:12", "ext:zendesk",
                                  "email:a b@c.d", "bad kind:x"])
def test_parse_identity_refuses_bad_input(text: str) -> None:
    with pytest.raises(IdentityError):
        parse_identity(text, region="US")


def test_whatsapp_prefix_and_formats_give_one_phone() -> None:
    forms = ["whatsapp:+14155550134", "(415) 555-0134", "415.555.0134", "+1 415-555-0134", "4155550134"]
    assert {parse_identity(f"phone:{f}", region="US").value for f in forms} == {"+14155550134"}


def test_block_identities_are_all_collected_and_deduplicated() -> None:
    refs = identities_from_block({"email": "A@b.co", "phone": "415-555-0134", "handles": {"Twitter": "@A"},
                                  "external_ids": {"zendesk": "9"}}, region="US")
    assert [str(r) for r in refs] == ["email:a@b.co", "ext:zendesk:9", "phone:+14155550134", "twitter:a"]
