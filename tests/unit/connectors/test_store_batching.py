import pytest

from mmingest.connectors.stores.batching import estimated_bytes, request_batches, send_all
from mmingest.schemas.errors import InvalidInput, StoreUnavailable
from tests.contract.data import make_points


def test_batches_respect_both_the_count_and_the_byte_limit():
    sizes = [5, 5, 5, 20, 5, 5]
    batches = list(request_batches(sizes, max_points=3, max_bytes=12, size=lambda n: n))
    assert batches == [[5, 5], [5], [20], [5, 5]]
    assert list(
        request_batches(list(range(7)), max_points=3, max_bytes=10**9, size=lambda n: 1)
    ) == [
        [0, 1, 2],
        [3, 4, 5],
        [6],
    ]


def test_point_size_grows_with_vectors_text_and_images():
    point = make_points()[0]
    bigger = point.model_copy(update={"keyword_text": "x" * 10_000, "image_data": b"y" * 30_000})
    assert 2 * 8 * 12 < estimated_bytes(point) < estimated_bytes(bigger)
    assert estimated_bytes(bigger) > 10_000 * 2 + 40_000


class Flaky:
    def __init__(self, failures):
        self.failures = dict(failures)  # batch index -> failures left
        self.sent = []

    def __call__(self, batch):
        index = batch[0]
        if self.failures.get(index, 0) > 0:
            self.failures[index] -= 1
            raise StoreUnavailable(f"blip on {index}")
        self.sent.append(index)


def test_a_first_request_failure_is_left_to_the_caller():
    send = Flaky({0: 1})
    with pytest.raises(StoreUnavailable):
        send_all([[0], [1]], send, what="test", sleep=lambda s: None)
    assert send.sent == []


def test_later_requests_are_retried_after_earlier_ones_landed():
    send, waits = Flaky({1: 2}), []
    send_all([[0], [1], [2]], send, what="test", sleep=waits.append)
    assert send.sent == [0, 1, 2]
    assert waits == [0.25, 0.5]


def test_retries_are_bounded_and_terminal_errors_are_not_retried():
    send = Flaky({1: 5})
    with pytest.raises(StoreUnavailable):
        send_all([[0], [1]], send, what="test", attempts=3, sleep=lambda s: None)
    assert send.failures[1] == 2

    def reject(batch):
        if batch[0] == 1:
            raise InvalidInput("bad point")

    with pytest.raises(InvalidInput):
        send_all([[0], [1]], reject, what="test", sleep=pytest.fail)


def test_one_attempt_means_no_retry_at_all():
    send = Flaky({1: 1})
    with pytest.raises(StoreUnavailable):
        send_all([[0], [1]], send, what="test", attempts=1, sleep=pytest.fail)
