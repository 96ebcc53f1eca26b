"""Fairness metrics against hand-computed values and against fairlearn."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agentic_match.fairness.metrics import (
    decision_fairness,
    demographic_parity_difference,
    equal_opportunity_difference,
    equalized_odds_difference,
    exposure_by_group,
    exposure_disparity,
    kl_divergence,
    ndkl,
    ndkl_list,
    ranking_fairness,
    topk_decisions,
    topk_group_share,
)

Y_TRUE = [1, 1, 0, 0, 1, 1, 0, 0]
Y_PRED = [1, 1, 1, 0, 1, 0, 0, 0]
GROUPS = ["a"] * 4 + ["b"] * 4


@pytest.mark.parametrize("use_fl", [False, True])
def test_decision_metrics_hand_computed(use_fl):
    # selection: a = 3/4, b = 1/4; TPR: a = 2/2, b = 1/2; FPR: a = 1/2, b = 0/2
    assert demographic_parity_difference(Y_PRED, GROUPS, use_fairlearn=use_fl) == pytest.approx(0.5)
    assert equal_opportunity_difference(Y_TRUE, Y_PRED, GROUPS, use_fairlearn=use_fl) == pytest.approx(0.5)
    assert equalized_odds_difference(Y_TRUE, Y_PRED, GROUPS, use_fairlearn=use_fl) == pytest.approx(0.5)
    d = decision_fairness(Y_TRUE, Y_PRED, GROUPS, use_fairlearn=use_fl)
    assert d.selection_rate == {"a": 0.75, "b": 0.25}
    assert d.true_positive_rate == {"a": 1.0, "b": 0.5}
    assert d.false_positive_rate == {"a": 0.5, "b": 0.0}


def test_agrees_with_fairlearn_on_random_data():
    from fairlearn.metrics import (
        MetricFrame,
        true_positive_rate,
    )
    from fairlearn.metrics import demographic_parity_difference as fl_dp
    from fairlearn.metrics import equalized_odds_difference as fl_eodds

    rng = np.random.default_rng(0)
    for _ in range(20):
        g = rng.choice(["x", "y", "z"], size=200)
        t = rng.integers(0, 2, size=200)
        y = (rng.random(200) < np.where(g == "x", 0.6, 0.3)).astype(int)
        assert demographic_parity_difference(y, g, use_fairlearn=False) == pytest.approx(
            fl_dp(t, y, sensitive_features=g)
        )
        assert equalized_odds_difference(t, y, g, use_fairlearn=False) == pytest.approx(
            fl_eodds(t, y, sensitive_features=g)
        )
        tpr = MetricFrame(metrics=true_positive_rate, y_true=t, y_pred=y, sensitive_features=g).difference()
        assert equal_opportunity_difference(t, y, g, use_fairlearn=False) == pytest.approx(tpr)
        assert equal_opportunity_difference(t, y, g, use_fairlearn=True) == pytest.approx(tpr)


def test_group_without_positives_is_skipped_for_tpr():
    # group b has no positives: its TPR is undefined, not 0
    assert equal_opportunity_difference([1, 1, 0, 0], [1, 0, 1, 1], ["a", "a", "b", "b"], use_fairlearn=False) == 0.0
    assert equal_opportunity_difference([1, 1, 0, 0], [1, 0, 1, 1], ["a", "a", "b", "b"], use_fairlearn=True) == 0.0


RUN = {
    "q1": {"d1": 4.0, "d2": 3.0, "d3": 2.0, "d4": 1.0},
    "q2": {"d2": 4.0, "d4": 3.0, "d1": 2.0, "d3": 1.0},
}
G = {"d1": "a", "d2": "b", "d3": "a", "d4": "b"}


def test_topk_group_share():
    # q1 top 2 = d1 (a), d2 (b) -> a .5; q2 top 2 = d2, d4 (b, b) -> a 0
    assert topk_group_share(RUN, G, k=2) == {"a": pytest.approx(0.25), "b": pytest.approx(0.75)}
    # a document without a group is skipped
    assert topk_group_share({"q": {"d1": 2.0, "x": 1.0}}, G, k=2) == {"a": 1.0, "b": 0.0}


def test_topk_decisions_over_full_pool():
    t, y, g = topk_decisions(
        {"q": {"d1": 2.0, "d2": 1.0}}, G, 1, qrels={"q": {"d3": 1}}, pools=["d1", "d2", "d3", "d4"]
    )
    assert y.tolist() == [1, 0, 0, 0] and t.tolist() == [0, 0, 1, 0] and g.tolist() == ["a", "b", "a", "b"]


def test_exposure_hand_computed():
    w = lambda r: 1 / math.log2(1 + r)  # noqa: E731
    exp = exposure_by_group({"q1": RUN["q1"]}, G)
    assert exp["a"] == pytest.approx((w(1) + w(3)) / 2)
    assert exp["b"] == pytest.approx((w(2) + w(4)) / 2)
    exp2 = exposure_by_group({"q1": RUN["q1"]}, G, k=2)
    assert exp2 == {"a": pytest.approx(w(1) / 2), "b": pytest.approx(w(2) / 2)}
    assert exposure_disparity({"q1": RUN["q1"]}, G, k=2) == pytest.approx((w(1) - w(2)) / 2)
    # an unranked pool member counts with exposure 0
    exp3 = exposure_by_group({"q": {"d1": 1.0}}, G, pools=["d1", "d3"])
    assert exp3 == {"a": pytest.approx(0.5)}


def test_ndkl_hand_computed():
    w = lambda i: 1 / math.log2(1 + i)  # noqa: E731
    target = {"a": 0.5, "b": 0.5}
    kl1 = math.log(2)  # prefix [a]: P = (1, 0)
    kl3 = (2 / 3) * math.log((2 / 3) / 0.5) + (1 / 3) * math.log((1 / 3) / 0.5)
    expected = (w(1) * kl1 + w(3) * kl3) / (w(1) + w(2) + w(3) + w(4))
    assert ndkl_list(["a", "b", "a", "b"], target) == pytest.approx(expected)
    assert ndkl_list(["a", "b"], target) == pytest.approx(w(1) * kl1 / (w(1) + w(2)))
    assert kl_divergence({"a": 1.0}, {"b": 1.0}) == math.inf
    # default target: the pool make-up (2 a, 2 b) -> same as 0.5 / 0.5
    assert ndkl({"q1": RUN["q1"]}, G, k=None) == pytest.approx(expected)


def test_ranking_fairness_summary():
    fair = ranking_fairness(RUN, G, k=2, qrels={"q1": {"d1": 1, "d4": 1}, "q2": {"d2": 1}})
    s = fair.summary()
    assert s["top2_share_b"] == pytest.approx(75.0) and s["pool_share_a"] == pytest.approx(50.0)
    assert {"exposure_disparity@2", "ndkl@2", "dp_diff@2", "eo_diff@2", "eodds_diff@2"} <= set(s)
    # top-2 decisions: selection a = 1/4, b = 3/4
    assert s["dp_diff@2"] == pytest.approx(0.5)
