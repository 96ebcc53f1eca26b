"""LGIR's sampled-negative protocol: the warm split, the lists, groups, random expectation, tests."""

from __future__ import annotations

import random

import pytest

from agentic_match.data.schema import Interaction
from agentic_match.evaluation.sampled import (
    interaction_groups,
    paired_p_value,
    random_expectation,
    sampled_lists,
    score_lists,
    summarise,
    warm_split,
)


def _inter(user: str, n: int) -> list[Interaction]:
    return [Interaction(user, f"{user}-j{k}") for k in range(n)]


def test_warm_split_shares_each_users_interactions_three_ways():
    inter = _inter("a", 1) + _inter("b", 2) + _inter("c", 3) + _inter("d", 9)
    split = warm_split(inter, seed=0)
    every = split.train + split.validation + split.test
    assert sorted(every, key=lambda i: i.job_id) == sorted(inter, key=lambda i: i.job_id)  # nothing lost or repeated

    def count(part, user):
        return sum(1 for i in part if i.resume_id == user)

    assert (count(split.train, "a"), count(split.validation, "a"), count(split.test, "a")) == (0, 0, 1)
    assert (count(split.train, "b"), count(split.validation, "b"), count(split.test, "b")) == (1, 0, 1)
    assert (count(split.train, "c"), count(split.validation, "c"), count(split.test, "c")) == (1, 1, 1)
    assert (count(split.train, "d"), count(split.validation, "d"), count(split.test, "d")) == (3, 3, 3)
    assert warm_split(inter, seed=0) == split and warm_split(inter, seed=1) != split


def test_sampled_lists_never_use_a_known_job_as_negative():
    known = {"u": {"j0", "j1", "j2"}}
    pool = [f"j{k}" for k in range(30)]
    lists = sampled_lists([Interaction("u", "j0")], known, pool, negatives=20, seed=3)
    ((qid, (user, cands)),) = lists.lists.items()
    assert user == "u" and cands[0] == "j0" and len(cands) == 21 and len(set(cands)) == 21
    assert not {"j1", "j2"} & set(cands)
    assert lists.qrels[qid] == {"j0": 1}


def test_random_expectation_is_exact_and_matches_simulation():
    # one relevant among 21: MAP@5 = (1 + 1/2 + 1/3 + 1/4 + 1/5) / 21
    assert random_expectation(21, "map@5") == pytest.approx(100 * (137 / 60) / 21)
    assert random_expectation(21, "map@5") == pytest.approx(10.87, abs=0.01)
    rng = random.Random(0)
    pool = [f"j{k}" for k in range(40)]
    lists = sampled_lists([Interaction(f"u{k}", "j0") for k in range(3000)], {}, pool, negatives=20, seed=0)
    per_list = score_lists(lists, lambda u, cands: [rng.random() for _ in cands])
    means = summarise(per_list)
    for metric in ("map@5", "ndcg@5", "mrr"):
        assert means[metric] == pytest.approx(random_expectation(21, metric), abs=1.0)


def test_groups_and_summary_by_group():
    counts = {f"u{k}": k for k in range(10)}
    groups = interaction_groups(counts, 5)
    assert [groups[f"u{k}"] for k in range(10)] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    per_list = {f"u{k}|j": {"map@5": float(k)} for k in range(10)}
    out = summarise(per_list, groups, metrics=("map@5",))
    assert out["map@5"] == 4.5 and out["groups"]["group1"] == {"map@5": 0.5}


def test_paired_p_value():
    b = {str(k): float(k % 7) for k in range(50)}
    symmetric = {k: v + (0.5 if int(k) % 2 else -0.5) for k, v in b.items()}  # mean difference 0
    assert paired_p_value(symmetric, b) == pytest.approx(1.0)
    better = {k: v + (2.5 if int(k) % 2 else 1.5) for k, v in b.items()}
    assert paired_p_value(better, b) < 1e-6
    assert paired_p_value(b, b) is None  # no difference at all: no test
