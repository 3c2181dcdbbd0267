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
