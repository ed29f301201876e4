import pytest
from hypothesis import given
from hypothesis import strategies as st

from stockroom.domain.errors import ValidationFailed
from stockroom.domain.events import EventType
from stockroom.domain.webhooks import check_url, event_types_from, retry_delay_ms

BASE, CAP = 1_000, 3_600_000


def test_retry_delays_double_from_the_base_up_to_the_cap():
    ceilings = [retry_delay_ms(n, base_ms=BASE, max_ms=CAP, jitter=1.0) for n in range(1, 16)]

    assert ceilings[:4] == [1_000, 2_000, 4_000, 8_000]
    assert ceilings[-1] == CAP
    assert ceilings == sorted(ceilings)


@given(attempts=st.integers(1, 100), jitter=st.floats(0, 1, exclude_max=True))
def test_a_jittered_delay_is_between_half_and_all_of_its_ceiling(attempts, jitter):
    ceiling = retry_delay_ms(attempts, base_ms=BASE, max_ms=CAP, jitter=1.0)

    delay = retry_delay_ms(attempts, base_ms=BASE, max_ms=CAP, jitter=jitter)

    assert ceiling / 2 <= delay <= ceiling


@pytest.mark.parametrize(
    "url", ["https://erp.example.com/hooks/stock", "http://127.0.0.1:9000/h?x=1"]
)
def test_absolute_http_urls_are_accepted(url):
    assert check_url(url) == url


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "example.com/hooks", "http:///nohost", "http://h:port/", "x" * 3000],
)
def test_anything_but_an_absolute_http_url_is_refused(url):
    with pytest.raises(ValidationFailed) as refused:
        check_url(url)

    assert refused.value.violations[0].field == "url"


def test_no_event_types_means_all_five_and_a_choice_keeps_contract_order():
    assert event_types_from(None) == tuple(EventType)
    assert event_types_from([EventType.DELETED.value, EventType.CREATED.value]) == (
        EventType.CREATED,
        EventType.DELETED,
    )


def test_an_unknown_event_type_is_refused_with_the_known_ones():
    with pytest.raises(ValidationFailed) as refused:
        event_types_from(["created"])

    assert len(refused.value.violations[0].data["known"]) == 5
