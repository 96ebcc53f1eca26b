"""A tiny hand-made corpus for the retrieval tests (no shared data needed)."""

from __future__ import annotations

from agentic_match.data.schema import Corpus, Document, Label

TOPICS = [
    ("nurse", "registered nurse caring for patients in a hospital ward", "Nurse for the intensive care unit"),
    ("chef", "head chef running a restaurant kitchen and menus", "Sous chef for a busy bistro kitchen"),
    ("dev", "software engineer writing python services and APIs", "Backend developer, Python and cloud"),
    ("acct", "accountant preparing ledgers, audits and tax returns", "Staff accountant for audits and tax"),
    ("pilot", "airline pilot flying commercial jets", "First officer for a regional airline"),
    ("teach", "teacher planning lessons for primary school pupils", "Primary school teacher, grade 3"),
    ("sales", "sales representative closing deals with retail clients", "Account executive for retail sales"),
    ("law", "paralegal drafting contracts and court filings", "Legal assistant for contract review"),
]


def toy_corpus(with_rejected: bool = True) -> Corpus:
    """Eight topics, one accepted pair each, a rejected label per pair (the next topic)."""
    resumes, jobs, labels = {}, {}, []
    for i, (key, rtext, jtitle) in enumerate(TOPICS):
        resumes[f"r-{key}"] = Document(f"r-{key}", "resume", text=f"Experienced {rtext}.")
        jobs[f"j-{key}"] = Document(f"j-{key}", "job", fields={"title": jtitle, "responsibilities": rtext})
        labels.append(Label(f"r-{key}", f"j-{key}", 1))
        if with_rejected:
            other = TOPICS[(i + 1) % len(TOPICS)][0]
            labels.append(Label(f"r-{key}", f"j-{other}", 0))
    return Corpus(resumes=resumes, jobs=jobs, labels=labels, source="<toy>")


def toy_rank_resume_task(corpus):
    """Every toy job against every toy resume; each job's own topic resume is relevant."""
    from agentic_match.evaluation.tasks import RankingTask

    return RankingTask(
        "rank_resume",
        queries=list(corpus.jobs.values()),
        candidates=list(corpus.resumes.values()),
        qrels={f"j-{k}": {f"r-{k}": 1} for k, _, _ in TOPICS},
    )
