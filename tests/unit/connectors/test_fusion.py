import statistics

import pytest

from mmingest.connectors.stores.fusion import dbsf, fuse, rrf
from mmingest.schemas.query import FusionMethod, Hit


def hits(*pairs):
    return [Hit(id=id_, score=score, payload={"id": id_}) for id_, score in pairs]


def test_rrf_uses_one_based_ranks_and_weights():
    a = hits(("x", 0.9), ("y", 0.8))
    b = hits(("y", 7.0), ("z", 3.0))
    fused = rrf([a, b], [1.0, 2.0], k=60, limit=10)
    scores = {hit.id: hit.score for hit in fused}
    assert scores["y"] == pytest.approx(1 / 62 + 2 / 61)
    assert scores["x"] == pytest.approx(1 / 61)
    assert scores["z"] == pytest.approx(2 / 62)
    assert [hit.id for hit in fused] == ["y", "z", "x"]
    assert fused[0].payload == {"id": "y"}


def test_rrf_breaks_ties_by_id_and_respects_the_limit():
    fused = rrf([hits(("b", 1.0)), hits(("a", 1.0))], [1.0, 1.0], k=60, limit=1)
    assert [hit.id for hit in fused] == ["a"]


def test_dbsf_normalises_each_channel_by_three_sigma():
    a = hits(("x", 0.9), ("y", 0.5), ("z", 0.1))
    fused = dbsf([a], [1.0], limit=10)
    # mean 0.5, sample std 0.4: bounds -0.7 .. 1.7
    assert [h.score for h in fused] == pytest.approx([1.6 / 2.4, 1.2 / 2.4, 0.8 / 2.4])


def test_dbsf_channel_without_spread_scores_one_half():
    fused = fuse(
        [hits(("x", 3.0), ("y", 3.0)), hits(("x", 1.0))],
        [1.0, 2.0],
        method=FusionMethod.DBSF,
        rrf_k=60,
        limit=5,
    )
    assert {h.id: h.score for h in fused} == {"x": pytest.approx(1.5), "y": pytest.approx(0.5)}


def test_dbsf_does_not_clamp_outliers_like_qdrant():
    # One point far above 14 equal others: z = 14 / sqrt(15) > 3, so it normalises above 1.
    channel = hits(("top", 1.0), *((f"p{i:02d}", 0.0) for i in range(14)))
    fused = dbsf([channel], [1.0], limit=1)
    values = [1.0] + [0.0] * 14
    mean, std = statistics.mean(values), statistics.stdev(values)
    assert fused[0].score == pytest.approx((1.0 - mean + 3 * std) / (6 * std))
    assert fused[0].score > 1.0


def test_weighted_fusion_min_max_normalises_each_channel():
    dense = hits(("x", 0.9), ("y", 0.5), ("z", 0.1))
    keyword = hits(("z", 12.0), ("y", 2.0))
    fused = fuse([dense, keyword], [1.0, 2.0], method=FusionMethod.WEIGHTED, rrf_k=60, limit=10)
    scores = {hit.id: hit.score for hit in fused}
    assert scores["x"] == pytest.approx(1.0)
    assert scores["y"] == pytest.approx(0.5 + 2 * 0.0)
    assert scores["z"] == pytest.approx(0.0 + 2 * 1.0)
    assert [hit.id for hit in fused] == ["z", "x", "y"]
    single = fuse([hits(("a", 3.0))], [1.0], method=FusionMethod.WEIGHTED, rrf_k=60, limit=5)
    assert single[0].score == 1.0
