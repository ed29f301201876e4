"""The signing helper receivers use: ``stockroom.webhooks``."""

import pytest

from stockroom import webhooks
from stockroom.webhooks import InvalidSignature, sign, verify

SECRET = "whsec_test"
BODY = b'{"id":"e1","slug":"updated"}'
NOW = 1_767_225_600


def test_a_signed_body_verifies():
    signature = sign(SECRET, body=BODY, timestamp=NOW)

    verify(SECRET, body=BODY, timestamp=str(NOW), signature=signature, now=NOW + 10)

    assert signature.startswith("v1=")
    assert len(signature) == len("v1=") + 64


@pytest.mark.parametrize(
    ("secret", "body", "timestamp"),
    [
        (SECRET, BODY.replace(b"updated", b"deleted"), NOW),  # a tampered body
        ("whsec_other", BODY, NOW),  # another subscription's secret
        (SECRET, BODY, NOW + 1),  # a timestamp moved to pass the age check
    ],
    ids=["tampered-body", "wrong-secret", "moved-timestamp"],
)
def test_anything_changed_fails_verification(secret, body, timestamp):
    signature = sign(SECRET, body=BODY, timestamp=NOW)

    with pytest.raises(InvalidSignature):
        verify(secret, body=body, timestamp=str(timestamp), signature=signature, now=NOW)


def test_an_old_delivery_is_refused_as_a_replay():
    signature = sign(SECRET, body=BODY, timestamp=NOW)

    with pytest.raises(InvalidSignature, match="away"):
        verify(SECRET, body=BODY, timestamp=str(NOW), signature=signature, now=NOW + 301)


def test_any_of_several_signatures_may_match_while_a_secret_rotates():
    signature = f"v1={'0' * 64}, {sign(SECRET, body=BODY, timestamp=NOW)}"

    verify(SECRET, body=BODY, timestamp=str(NOW), signature=signature, now=NOW)


def test_a_timestamp_that_is_not_a_number_is_refused():
    with pytest.raises(InvalidSignature, match="not a number"):
        verify(SECRET, body=BODY, timestamp="yesterday", signature="v1=00", now=NOW)


def test_the_module_exports_what_it_documents():
    assert set(webhooks.__all__) == {
        name for name in dir(webhooks) if not name.startswith("_") and name.isupper()
    } | {"InvalidSignature", "sign", "verify"}
