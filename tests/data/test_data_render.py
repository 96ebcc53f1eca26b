"""Rendering of documents into model input text (ConFit v2 style)."""

from __future__ import annotations

import pytest

from agentic_match.data import (
    Document,
    RenderConfig,
    ordered_fields,
    render,
    render_all,
)

JOB = Document(
    "j1",
    "job",
    fields={
        "preferred_qualifications": "Kubernetes",
        "zeta": "last unknown",
        "title": "Backend Engineer",
        "alpha": "first unknown",
        "responsibilities": "Build services",
        "location": "Denver, CO",
        "minimum_qualifications": "3 years Python",
        "blank": "   ",
    },
    metadata={"gender": "f", "family": "software"},
)


def test_job_default_order_then_unknown_alphabetical() -> None:
    assert render(JOB) == (
        "## title\nBackend Engineer\n\n"
        "## location\nDenver, CO\n\n"
        "## responsibilities\nBuild services\n\n"
        "## minimum_qualifications\n3 years Python\n\n"
        "## preferred_qualifications\nKubernetes\n\n"
        "## alpha\nfirst unknown\n\n"
        "## zeta\nlast unknown"
    )


def test_metadata_and_blank_fields_never_rendered() -> None:
    text = render(JOB)
    assert "software" not in text and "gender" not in text and "## blank" not in text


def test_free_text_as_is_and_after_fields() -> None:
    resume = Document("r1", "resume", text="  SUMMARY\nNurse with 5 years  ")
    assert render(resume) == "SUMMARY\nNurse with 5 years"
    both = Document("r2", "resume", fields={"skills": "SQL", "summary": "Analyst"}, text="extra")
    # Resume default order puts summary before skills; free text comes last.
    assert render(both) == "## summary\nAnalyst\n\n## skills\nSQL\n\n## text\nextra"


def test_exclude_fields_case_insensitive_and_text() -> None:
    doc = Document("r", "resume", fields={"Gender": "x", "skills": "Go"}, text="free")
    cfg = RenderConfig(exclude_fields=("gender", "TEXT"))
    assert render(doc, cfg) == "## skills\nGo"
    assert [name for name, _ in ordered_fields(doc, cfg)] == ["skills"]


def test_truncation_per_field_and_total() -> None:
    doc = Document("j", "job", fields={"title": "abcdefghij", "location": "klmnopqrst"})
    assert render(doc, RenderConfig(max_field_chars=4)) == "## title\nabcd\n\n## location\nklmn"
    full = render(doc)
    assert render(doc, RenderConfig(max_total_chars=12)) == full[:12]
    assert len(render(doc, RenderConfig(max_total_chars=5))) <= 5
    text_doc = Document("r", "resume", text="word " * 100)
    assert len(render(text_doc, RenderConfig(max_field_chars=20))) <= 20


def test_custom_order_and_heading() -> None:
    cfg = RenderConfig(job_field_order=("location", "title"), heading="### ")
    doc = Document("j", "job", fields={"title": "T", "location": "L"})
    assert render(doc, cfg) == "### location\nL\n\n### title\nT"
    assert render_all([doc, doc], cfg) == [render(doc, cfg)] * 2


def test_fingerprint_stable_and_sensitive_to_settings() -> None:
    base = RenderConfig()
    assert base.fingerprint() == RenderConfig().fingerprint()
    assert len(base.fingerprint()) == 16
    assert RenderConfig(max_total_chars=100).fingerprint() != base.fingerprint()
    assert RenderConfig(exclude_fields=("age",)).fingerprint() != base.fingerprint()
    # Lists (from a config file) and case of excluded names do not change the hash.
    assert (
        RenderConfig(exclude_fields=["Age", "gender"]).fingerprint()  # type: ignore[arg-type]
        == RenderConfig(exclude_fields=("gender", "age")).fingerprint()
    )
    # Pinned: indexes store it, so a change must be deliberate (bump RENDER_FORMAT_VERSION).
    assert base.fingerprint() == "fec3f31423e874a1"


def test_invalid_limits_rejected() -> None:
    with pytest.raises(ValueError):
        RenderConfig(max_field_chars=0)
    with pytest.raises(ValueError):
        RenderConfig(max_total_chars=-5)
