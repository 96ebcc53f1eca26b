"""Redaction of e-mails, phones, URLs and names; protected rendering; the log filter."""

from __future__ import annotations

import logging

from agentic_match.data.schema import Document
from agentic_match.privacy import (
    RedactConfig,
    RedactingFilter,
    install_log_redaction,
    prompt_text,
    protected_render_config,
    redact,
)


def test_emails_phones_urls():
    text = (
        "jane.doe+cv@mail.example.co.uk | (555) 123-4567 | 555.123.4567 | +44 20 7946 0958 | "
        "1-800-555-0199 | https://example.com/in/jane?x=1 | www.janedoe.dev | github.com/jdoe"
    )
    out = redact(text)
    assert out == "[EMAIL] | [PHONE] | [PHONE] | [PHONE] | [PHONE] | [URL] | [URL] | [URL]"


def test_numbers_that_are_not_phones_stay():
    text = "2010 - 2014, Jan 2019 - Present, $55,000, ZIP 78701, 1,000,000 users, GPA 3.5, 40 hrs/week, ISO 9001:2015"
    assert redact(text) == text


def test_names_whole_words_any_case_and_parts():
    out = redact("JANE DOE led Doe's team; Janet and Jane-Marie stay? Jane\nDoe", names=["Jane Doe"])
    assert out == "[NAME] led [NAME]'s team; Janet and [NAME]-Marie stay? [NAME]"
    assert redact("Jane Doe met Al", names=["Jane Doe"], config=RedactConfig(split_names=False)) == "[NAME] met Al"
    assert (
        redact(
            "call me",
            config=RedactConfig(placeholders={"email": "", "phone": "", "url": "", "name": "<n>"}),
            names=["me"],
        )
        == "call <n>"
    )


def test_sensitive_fields_never_reach_prompts():
    doc = Document(
        "r1", "resume", fields={"name": "Jane Doe", "gender": "female", "summary": "Jane Doe, nurse. jane@x.org"}
    )
    cfg = protected_render_config()
    assert "gender" in cfg.exclude_fields and "name" in cfg.exclude_fields
    text = prompt_text(doc)
    assert "female" not in text and "Jane" not in text and "jane@x.org" not in text
    assert "[NAME], nurse. [EMAIL]" in text


def test_log_filter_redacts_records(caplog):
    logger = logging.getLogger("agentic_match.test_redact")
    filt = RedactingFilter(names=["Jane Doe"])
    caplog.handler.addFilter(filt)
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("scored %s <%s> tel %s", "Jane Doe", "jane@x.org", "(555) 123-4567")
            try:
                raise ValueError("bad resume of jane@x.org")
            except ValueError:
                logger.exception("failed for %s", "Jane")
    finally:
        caplog.handler.removeFilter(filt)
    text = caplog.text
    assert "jane@x.org" not in text and "Jane" not in text and "555" not in text
    assert "scored [NAME] <[EMAIL]> tel [PHONE]" in text and "ValueError: bad resume of [EMAIL]" in text


def test_install_on_handlers():
    logger = logging.getLogger("agentic_match.test_install")
    logger.propagate = False
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Keep()
    logger.addHandler(handler)
    try:
        filt = install_log_redaction(logger, names=["Bob Stone"])
        install_log_redaction(logger)  # idempotent per handler
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
        logging.getLogger("agentic_match.test_install").warning("mail bob@stone.io about Bob Stone")
        filt.add_names(["Alice"])
        logger.warning("and Alice")
    finally:
        logger.removeHandler(handler)
    assert records == ["mail [EMAIL] about [NAME]", "and [NAME]"]
