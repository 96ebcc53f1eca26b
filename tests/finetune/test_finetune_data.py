"""Dataset builders of generator fine-tuning: formats, splits, leakage and bad input."""

from __future__ import annotations

import json

import pytest

from agentic_match.augment.hyre import hyre_messages
from agentic_match.data import load_demo
from agentic_match.data.schema import Corpus, Document, Label
from agentic_match.errors import DataError
from finetune.config import DataConfig
from finetune.data import (
    TokenBudget,
    build,
    build_dpo,
    build_hyre_sft,
    build_irc_sft,
    limit,
    load_data,
    profile_sections,
    save_data,
    split_ids,
)


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_demo()


def _jobs_of(ds) -> set[str]:
    return set(ds["job_id"]) if len(ds) else set()


def test_hyre_sft_is_conversational_prompt_completion_of_accepted_pairs(corpus):
    data = build_hyre_sft(corpus)
    train = data.dataset["train"]
    row = train[0]
    assert row["prompt"][-1]["role"] == "user" and [m["role"] for m in row["completion"]] == ["assistant"]
    # The prompt is exactly what generation sends (same few-shot pair, same settings) unless
    # the budget made it shorten the target job, and the report counts those.
    same = [r["prompt"] == hyre_messages(corpus.jobs[r["job_id"]], data.examples, data.config.hyre) for r in train]
    assert any(same)
    shortened = {r["job_id"] for r, s in zip(train, same, strict=True) if not s}
    assert len(shortened) <= data.report["prompts_shortened"]
    labels = {(lb.job_id, lb.resume_id): lb.label for lb in corpus.label_splits["train"]}
    assert all(labels[(r["job_id"], r["resume_id"])] > 0 for r in train)
    # The few-shot job never is a target (its answer would be in the prompt).
    example_jobs = {j.id for j, _ in data.examples}
    assert not example_jobs & (_jobs_of(train) | _jobs_of(data.dataset["eval"]))
    assert not _jobs_of(train) & _jobs_of(data.dataset["eval"])


def test_builds_are_deterministic(corpus):
    a, b = build_hyre_sft(corpus), build_hyre_sft(corpus)
    assert a.digest == b.digest
    c = build_hyre_sft(corpus, config=DataConfig(seed=1))
    assert c.digest != a.digest


def test_encoder_filter_keeps_the_top_fraction(corpus):
    # A fake encoder: the score is the resume id's number, so the kept pairs are known.
    def scorer(pairs):
        return [int(r.id.rsplit("-", 1)[1]) for _, r in pairs]

    full = build_hyre_sft(corpus, config=DataConfig(keep_top_fraction=1.0, max_examples_per_job=9), scorer=scorer)
    half = build_hyre_sft(corpus, config=DataConfig(keep_top_fraction=0.5, max_examples_per_job=9), scorer=scorer)
    n = full.report["accepted_pairs_train"]
    assert half.report["dropped_by_encoder_filter"] == n - round(n / 2)
    kept = [int(r.rsplit("-", 1)[1]) for r in half.dataset["train"]["resume_id"]]
    dropped = {int(r.rsplit("-", 1)[1]) for r in full.dataset["train"]["resume_id"]} - set(kept)
    assert min(kept) >= max(dropped)


def test_dpo_pairs_chosen_is_higher_labelled_for_the_same_job(corpus):
    data = build_dpo(corpus)
    labels = {(lb.job_id, lb.resume_id): lb.label for lb in corpus.label_splits["train"]}
    train = data.dataset["train"]
    assert len(train) > 0 and set(train.column_names) >= {"prompt", "chosen", "rejected"}
    for r in train:
        assert labels[(r["job_id"], r["chosen_id"])] > labels[(r["job_id"], r["rejected_id"])]
        assert r["chosen"][0]["role"] == "assistant" and r["rejected"][0]["role"] == "assistant"
    per_job = {}
    for j in train["job_id"]:
        per_job[j] = per_job.get(j, 0) + 1
    assert max(per_job.values()) <= DataConfig().max_pairs_per_job


def test_graded_labels_make_pairs_between_grades():
    jobs = {"j1": Document("j1", "job", text="Nurse, ICU, night shifts"), "j2": Document("j2", "job", text="Chef")}
    resumes = {f"r{i}": Document(f"r{i}", "resume", text=f"Resume {i} nurse ICU") for i in range(5)}
    labels = [
        Label("r0", "j1", 3),
        Label("r1", "j1", 2),
        Label("r2", "j1", 2),
        Label("r3", "j2", 1),
        Label("r4", "j2", 0),
    ]
    c = Corpus(resumes=resumes, jobs=jobs, labels=labels)
    data = build_dpo(
        c, config=DataConfig(eval_fraction=0, min_train_examples=1), examples=[(jobs["j2"], resumes["r3"])]
    )
    pairs = {(r["chosen_id"], r["rejected_id"]) for r in data.dataset["train"]}
    assert pairs == {("r0", "r1"), ("r0", "r2")}  # j2 is the few-shot job; equal grades never pair


def test_irc_sft_learns_the_hidden_summary_and_skills(corpus):
    data = build_irc_sft(corpus)
    row = data.dataset["train"][0]
    answer = json.loads(row["completion"][0]["content"])
    assert answer["skills"] and isinstance(answer["summary"], str)
    prompt = row["prompt"][0]["content"]
    assert "interacted" in prompt.lower()
    for skill in answer["skills"][:3]:  # the skills section was taken out of the prompt's resume
        assert f"Skills\n{skill}" not in prompt
    rest, summary, skills = profile_sections(corpus.resumes[row["resume_id"]])
    assert answer == {"summary": summary, "skills": skills}
    assert "Skills" not in (rest.text or "")


def test_profile_sections_of_fielded_resumes():
    doc = Document("r", "resume", fields={"title": "Nurse", "summary": "ICU nurse.", "skills": "triage; IV; charting"})
    rest, summary, skills = profile_sections(doc)
    assert summary == "ICU nurse." and skills == ["triage", "IV", "charting"] and set(rest.fields) == {"title"}


def test_split_is_deterministic_and_disjoint():
    ids = [f"j{i}" for i in range(40)]
    train, held = split_ids(ids, 0.25, seed=3)
    assert (train, held) == split_ids(list(reversed(ids)), 0.25, seed=3)
    assert len(held) == 10 and not set(train) & set(held) and set(train) | set(held) == set(ids)
    assert split_ids(ids, 0.25, seed=4) != (train, held)


def test_leakage_of_test_jobs_into_training_is_an_error(corpus):
    test_labels = [Label(r, j, 1) for r, j in zip(corpus.splits["resumes"]["test"], corpus.splits["jobs"]["test"])]
    with pytest.raises(DataError, match=r"leakage: .* 'test' split in the training data"):
        build_hyre_sft(corpus, corpus.label_splits["train"] + test_labels)
    with pytest.raises(DataError, match="leakage"):
        build_dpo(corpus, corpus.label_splits["train"] + test_labels + [Label("demo-r-001", test_labels[0].job_id, 0)])


def test_explicit_eval_labels_may_use_dev_but_not_test(corpus):
    data = build_hyre_sft(corpus, eval_labels=corpus.label_splits["dev"])
    assert _jobs_of(data.dataset["eval"]) <= set(corpus.splits["jobs"]["dev"])
    test_labels = [Label(corpus.splits["resumes"]["test"][0], corpus.splits["jobs"]["test"][0], 1)]
    with pytest.raises(DataError, match="'test' split in the evaluation data"):
        build_hyre_sft(corpus, eval_labels=test_labels)
    with pytest.raises(DataError, match="both the training and the evaluation"):
        build_hyre_sft(corpus, eval_labels=corpus.label_splits["train"][-4:])


def test_no_accepted_pair_is_a_clear_error(corpus):
    rejected_only = [lb for lb in corpus.label_splits["train"] if lb.label == 0]
    for kind, task in (("sft", "hyre"), ("dpo", "hyre"), ("sft", "irc")):
        with pytest.raises(DataError, match=r"no accepted pair \(label > 0\)"):
            build(task, kind, corpus, rejected_only)


def test_jobs_without_accepted_pairs_are_counted_not_lost(corpus):
    train = corpus.label_splits["train"]
    job = sorted({lb.job_id for lb in train})[-1]
    labels = [lb for lb in train if not (lb.job_id == job and lb.label > 0)]
    data = build_hyre_sft(corpus, labels, config=DataConfig(eval_fraction=0))
    assert data.report["jobs_without_accepted"] == 1 and data.report["jobs_without_accepted_ids"] == [job]


def test_dataset_too_small_to_split_or_train(corpus):
    one_job = [lb for lb in corpus.label_splits["train"] if lb.job_id == "demo-j-01"]
    with pytest.raises(DataError, match="too small to split"):
        split_ids(["j1"], 0.1, seed=0)
    example = sorted({lb.job_id for lb in corpus.label_splits["train"]} - {"demo-j-01"})[0]
    labels = one_job + [lb for lb in corpus.label_splits["train"] if lb.job_id == example]
    with pytest.raises(DataError, match="too small to split"):
        build_hyre_sft(corpus, labels)
    with pytest.raises(DataError, match="too small to train"):
        build_hyre_sft(corpus, labels, config=DataConfig(eval_fraction=0, min_train_examples=50))


def test_unknown_ids_in_labels_are_named(corpus):
    bad = corpus.label_splits["train"] + [Label("nobody", "demo-j-01", 1), Label("demo-r-001", "nojob", 1)]
    with pytest.raises(DataError, match="unknown job id 'nojob'"):
        build_hyre_sft(corpus, bad)


def test_token_budget_cuts_completions_and_shortens_prompts(corpus):
    cfg = DataConfig(max_completion_tokens=32, max_prompt_tokens=590)
    data = build_hyre_sft(corpus, config=cfg, budget=TokenBudget())
    assert data.report["completions_truncated"] > 0 and data.report["prompts_shortened"] > 0
    assert all(len(r["completion"][0]["content"]) <= 32 * 4 for r in data.dataset["train"])
    assert all(TokenBudget().prompt_tokens(r["prompt"]) <= 590 for r in data.dataset["train"])
    # Prompts that cannot fit are dropped and counted; none left is a clear error.
    with pytest.raises(DataError, match=r'too small to train: 0 .*"prompts_too_long": 12'):
        build_hyre_sft(corpus, config=DataConfig(max_prompt_tokens=50), budget=TokenBudget())


def test_save_load_roundtrip_and_limit(tmp_path, corpus):
    data = build_dpo(corpus)
    small = limit(data, max_train=5, max_eval=1)
    assert small.sizes() == {"train": 5, "eval": 1} and small.report["train_before_limit"] == data.sizes()["train"]
    folder = save_data(small, tmp_path / "dpo")
    back = load_data(folder)
    assert back.digest == small.digest and back.kind == "dpo" and back.config == small.config
    assert [(j.id, r.id) for j, r in back.examples] == [(j.id, r.id) for j, r in small.examples]
    with pytest.raises(DataError, match="not a saved fine-tuning dataset"):
        load_data(tmp_path)


def test_irc_refuses_test_resumes_in_training(corpus):
    resume, job = corpus.splits["resumes"]["test"][0], corpus.splits["jobs"]["train"][0]
    labels = corpus.label_splits["train"] + [Label(resume, job, 1)]
    with pytest.raises(DataError, match=r"leakage: 1 resume\(s\) of 'test' in IRC training"):
        build_irc_sft(corpus, labels, config=DataConfig(eval_fraction=0))
