from hypothesis import given, settings
from hypothesis import strategies as st

from mmingest.pipelines.extract.dedup import KeySet


def test_keyset_remembers_keys_through_growth():
    keys = KeySet(capacity=4)
    added = [keys.add(f"sku-{i}") for i in range(5000)]
    assert all(added)
    assert len(keys) == 5000
    assert not keys.add("sku-1234")
    assert not keys.add("sku-0")
    assert keys.add("sku-5000")
    assert keys.add("")
    assert not keys.add("")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.text(alphabet="abc", max_size=3), max_size=40),  # few keys: many repeats
        max_size=8,
    ),
    st.integers(1, 64),
)
def test_adding_a_batch_at_once_is_adding_its_keys_one_by_one(batches, capacity):
    one_by_one, at_once = KeySet(capacity), KeySet(capacity)
    for keys in batches:
        assert at_once.add_many(keys) == [one_by_one.add(key) for key in keys]
        assert len(at_once) == len(one_by_one)
    for key in {key for keys in batches for key in keys} | {"zzz", "d"}:
        assert at_once.contains(key) == one_by_one.contains(key)


def test_colliding_slots_in_one_batch_each_find_their_own():
    keys = KeySet(capacity=4)  # a 16-slot table: 8 keys crowd it
    batch = [f"k{i}" for i in range(8)]
    assert keys.add_many(batch) == [True] * 8
    assert keys.add_many([*batch, "k8"]) == [False] * 8 + [True]
    assert all(keys.contains(key) for key in [*batch, "k8"]) and len(keys) == 9
