"""Unit tests of the augmentation functions (HyRe, completion, clean-up, checked generation)."""

from __future__ import annotations

import pytest

from agentic_match.augment.clean import (
    CleanConfig,
    CleanCV,
    clean_resume,
    cleaned_document,
)
from agentic_match.augment.completion import (
    CompletionConfig,
    CompletionOutput,
    compare_fabrication,
    complete_resume,
    completed_document,
    fabrication_report,
    interacted_jobs,
    skill_supported,
)
from agentic_match.augment.generation import (
    GenerationPolicy,
    generate_text,
    text_problem,
)
from agentic_match.augment.hyre import (
    HyReConfig,
    augmented_document,
    hyre_document,
    pick_examples,
)
from agentic_match.data import load_demo, render
from agentic_match.data.schema import Interaction
from agentic_match.errors import DataError, StructuredOutputError
from agentic_match.llm.client import Completion, SamplingParams

GOOD = "Senior nurse with ten years of intensive care experience, triage and patient education."


class ScriptedChat:
    """A client fake: answers from a list (then ``default``) and records every call."""

    def __init__(self, replies=(), default=GOOD):
        self.replies = list(replies)
        self.default = default
        self.calls: list[dict] = []
        self.sampling = SamplingParams(temperature=0.0, seed=0)

    def _next(self):
        return self.replies.pop(0) if self.replies else self.default

    def chat(self, messages, **kw):
        self.calls.append({"messages": messages, **kw})
        return Completion(self._next())

    def structured(self, messages, schema, **kw):
        self.calls.append({"messages": messages, **kw})
        reply = self._next()
        if isinstance(reply, Exception):
            raise reply
        return schema.model_validate_json(reply)


@pytest.fixture(scope="module")
def corpus():
    return load_demo()


@pytest.mark.parametrize(
    "text,bad",
    [
        ("", True),
        ("   \n", True),
        ("ok", True),
        ("!!!! ???? ....... ,,,,,,, ;;;;;;", True),
        ("the " * 40, True),
        (GOOD, False),
    ],
)
def test_text_problem(text, bad):
    assert (text_problem(text) is not None) == bad


def test_garbage_is_retried_with_other_sampling_then_reported():
    llm = ScriptedChat(replies=["", "the the the the the the the the the the the the the"], default="")
    out = generate_text(llm, [{"role": "user", "content": "x"}], policy=GenerationPolicy(attempts=3), max_tokens=9)
    assert not out.ok and out.text is None and out.attempts == 3 and "empty" in out.problem
    seeds = [c.get("seed") for c in llm.calls]
    assert seeds == [None, 1, 2]  # greedy first, then other seeds: a cached answer is not just repeated
    assert all(c["temperature"] > 0 for c in llm.calls[1:]) and all(c["max_tokens"] == 9 for c in llm.calls)


def test_retry_succeeds():
    llm = ScriptedChat(replies=[""], default=GOOD)
    out = generate_text(llm, [{"role": "user", "content": "x"}])
    assert out.ok and out.text == GOOD and out.attempts == 2


def test_pick_examples_is_seeded_and_excludes(corpus):
    labels = corpus.label_splits["train"]
    a = pick_examples(corpus, labels, HyReConfig(n_examples=2, seed=3))
    b = pick_examples(corpus, labels, HyReConfig(n_examples=2, seed=3))
    assert [(j.id, r.id) for j, r in a] == [(j.id, r.id) for j, r in b]
    ex = pick_examples(corpus, labels, HyReConfig(n_examples=1), exclude_jobs={a[0][0].id})
    assert ex[0][0].id != a[0][0].id
    with pytest.raises(DataError, match="accepted label"):
        pick_examples(corpus, [], HyReConfig())


def test_augmented_document_concat_replace_and_empty(corpus):
    job = corpus.jobs["demo-j-01"]
    cat = augmented_document(job, "  Generated resume.  ", HyReConfig())
    assert render(cat) == render(job) + HyReConfig().separator + "Generated resume."
    assert cat.metadata["hyre"]["generated"] == "Generated resume." and cat.metadata["source"] == job.metadata["source"]
    rep = augmented_document(job, "Generated resume.", HyReConfig(mode="replace"))
    assert render(rep) == "Generated resume."
    assert augmented_document(job, "   ", HyReConfig()) is job
    resume = corpus.resumes["demo-r-001"]
    rev = augmented_document(resume, "A job post.", HyReConfig())
    assert "hypothetical job post" in rev.text and rev.kind == "resume"


def test_hyre_document_failure_keeps_original(corpus):
    ex = pick_examples(corpus, corpus.label_splits["train"], HyReConfig())
    job = corpus.jobs["demo-j-02"]
    out, outcome = hyre_document(ScriptedChat(default=""), job, ex, policy=GenerationPolicy(attempts=2))
    assert out is job and not outcome.ok
    out, outcome = hyre_document(ScriptedChat(), job, ex)
    assert outcome.ok and out.text.endswith(GOOD)
    rev, _ = hyre_document(ScriptedChat(), corpus.resumes["demo-r-001"], ex)
    assert rev.kind == "resume" and rev.text.endswith(GOOD)


def test_completion_keeps_user_text_apart(corpus):
    resume = corpus.resumes["demo-r-001"]
    out = CompletionOutput(summary="Backend engineer.", skills=["Python", "Kubernetes", "Underwater welding"])
    done = completed_document(resume, out, "src")
    assert done.text == resume.text and done.metadata["inferred"]["method"] == "src"
    assert done.metadata["inferred"]["skills"] == ["Python", "Kubernetes", "Underwater welding"]
    assert "## inferred\nBackend engineer.\nLikely skills: Python" in render(done)
    again = completed_document(done, CompletionOutput(summary="Other.", skills=[]), "irc")
    assert again.fields["inferred"] == "Other."  # replaced, not stacked


def test_fabrication_report_and_comparison(corpus):
    resume = corpus.resumes["demo-r-001"]
    job = corpus.jobs["demo-j-01"]
    rep = fabrication_report(resume, ["Python", "Kubernetes", "Underwater welding", "on-call rotation"], [job], "irc")
    assert rep.supported == ["Python", "Kubernetes", "on-call rotation"]
    assert rep.unsupported == ["Underwater welding"] and rep.total == 4 and rep.rate == 0.25
    # strict: every content word must be stated; one shared generic word is not support
    assert skill_supported("Underwater administration", {"administration"})
    assert not skill_supported("Underwater administration", {"administration"}, every_word=True)
    src = fabrication_report(resume, ["Python", "Basket weaving"], [], "src")
    table = compare_fabrication([rep, src])
    assert table["irc"]["unsupported"] == 1 and table["src"]["rate"] == 0.5 and table["src"]["documents"] == 1


def test_complete_resume_src_and_irc(corpus):
    reply = '{"summary": "Backend engineer with cloud experience.", "skills": ["Python", "Go"]}'
    resume, job = corpus.resumes["demo-r-001"], corpus.jobs["demo-j-01"]
    llm = ScriptedChat(default=reply)
    out, outcome = complete_resume(llm, resume, [job], CompletionConfig(method="irc"))
    assert outcome.ok and out.metadata["inferred"]["skills"] == ["Python", "Go"]
    assert "Job posts the candidate interacted with" in llm.calls[0]["messages"][0]["content"]
    bad = ScriptedChat(replies=[StructuredOutputError("x"), '{"summary": "", "skills": []}'], default=reply)
    out, outcome = complete_resume(bad, resume, [], CompletionConfig(), policy=GenerationPolicy(attempts=2))
    assert out is resume and "empty completion" in outcome.problem


def test_interacted_jobs_names_unknown_job(corpus):
    inter = [
        Interaction("demo-r-001", "demo-j-01"),
        Interaction("demo-r-001", "demo-j-01"),
        Interaction("demo-r-002", "nope"),
    ]
    with pytest.raises(DataError, match=r"inter.jsonl:3 \[job_id\]: unknown job id 'nope'"):
        interacted_jobs(inter, corpus.jobs, source="inter.jsonl")
    got = interacted_jobs(inter[:2], corpus.jobs)
    assert [j.id for j in got["demo-r-001"]] == ["demo-j-01"]


def test_clean_resume(corpus):
    resume = corpus.resumes["demo-r-001"]
    cv = CleanCV(
        current_title="Senior Software Engineer",
        previous_titles=["Backend Developer"],
        education=["B.A. Mathematics, Cedar Crest College"],
        skills=["Python", "Redis"],
        previous_employers=["Cobalt Ridge Software"],
        sectors=["software"],
    )
    doc = cleaned_document(resume, cv)
    assert doc.fields["title"] == "Senior Software Engineer" and doc.fields["skills"] == "Python; Redis"
    assert doc.text == render(resume) and doc.metadata["clean"]["sectors"] == ["software"]
    assert cleaned_document(resume, cv, CleanConfig(keep_text=False)).text is None
    out, outcome = clean_resume(ScriptedChat(default=cv.model_dump_json()), resume)
    assert outcome.ok and out.fields["previous_employers"] == "Cobalt Ridge Software"
    out, outcome = clean_resume(
        ScriptedChat(default=CleanCV(current_title="").model_dump_json()), resume, policy=GenerationPolicy(attempts=1)
    )
    assert out is resume and "empty record" in outcome.problem


def test_echoed_job_is_rejected_then_reported(corpus):
    from agentic_match.augment.generation import echo_problem

    job = corpus.jobs["demo-j-01"]
    echo = render(job)
    assert "repeats the input" in echo_problem(echo, render(job))
    assert echo_problem(GOOD, render(job)) is None
    ex = pick_examples(corpus, corpus.label_splits["train"], HyReConfig())
    out, outcome = hyre_document(ScriptedChat(default=echo), job, ex, policy=GenerationPolicy(attempts=2))
    assert out is job and "repeats the input" in outcome.problem
    out, outcome = hyre_document(ScriptedChat(default=echo), job, ex, HyReConfig(max_copied_share=1.0))
    assert outcome.ok
    # a copy with bullet marks in front of the post's lines is still a copy
    bulleted = "\n".join(f"- {ln}" for ln in echo.splitlines() if ln.strip())
    assert "repeats the input" in echo_problem(bulleted, echo)


def test_looping_and_placeholder_answers_are_rejected(corpus):
    """What Qwen2.5-Coder-0.5B wrote for dev jobs: the layout's descriptions and a loop."""
    import prompts
    from agentic_match.augment.generation import loop_problem, placeholder_problem

    layout = prompts.render("hyre")
    placeholder = (
        "Title: Account Manager\nSummary: 2 sentences on experience and strengths\n"
        "Skills: 8 to 12 skills, comma-separated"
    )
    assert "placeholder for 'Summary'" in placeholder_problem(placeholder, layout)
    filled = "Title: Account Manager\nSummary: Ten years of enterprise accounts.\nSkills: SQL, Python, negotiation"
    assert placeholder_problem(filled, layout) is None
    loop = "Experience:\n" + "- 10/2011 to Current\n  Senior Account Executive\n" * 4
    assert "repeated 4 times" in loop_problem(loop)
    assert loop_problem(filled) is None
    job = corpus.jobs["demo-j-01"]
    ex = pick_examples(corpus, corpus.label_splits["train"], HyReConfig())
    out, outcome = hyre_document(ScriptedChat(default=placeholder), job, ex, policy=GenerationPolicy(attempts=2))
    assert out is job and "placeholder" in outcome.problem


def test_copied_few_shot_answer_is_rejected(corpus):
    job = corpus.jobs["demo-j-01"]
    ex = pick_examples(corpus, corpus.label_splits["train"], HyReConfig())
    copied = render(ex[0][1])  # the example's accepted resume, as small models write it for every job
    out, outcome = hyre_document(ScriptedChat(default=copied), job, ex, policy=GenerationPolicy(attempts=2))
    assert out is job and "few-shot example's answer" in outcome.problem and outcome.attempts == 2
    resume = corpus.resumes["demo-r-001"]  # reverse direction: the example's job post is the answer
    one = GenerationPolicy(attempts=1)
    out, outcome = hyre_document(ScriptedChat(default=render(ex[0][0])), resume, ex, policy=one)
    assert out is resume and "few-shot example's answer" in outcome.problem
    out, outcome = hyre_document(ScriptedChat(default=GOOD), job, ex)
    assert outcome.ok


def test_clean_lists_are_deduplicated(corpus):
    cv = CleanCV(current_title="Engineer", previous_titles=["Engineer", "engineer ", "Developer"])
    assert cleaned_document(corpus.resumes["demo-r-001"], cv).fields["previous_titles"] == "Engineer; Developer"


def test_hyre_claims_split_the_skills_line_by_support_in_the_post():
    from agentic_match.augment.hyre import hyre_claims

    generated = (
        "Title: ICU nurse\nSummary: Six years of critical care.\nSkills: triage, ventilator care; BLS • Python\n"
    )
    supported, unsupported = hyre_claims(generated, "ICU nurse: triage and ventilator care, BLS required.")
    assert supported == ["triage", "ventilator care", "BLS"] and unsupported == ["Python"]
    assert hyre_claims("No skills line here.", "anything") == ([], [])
