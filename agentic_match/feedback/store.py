"""Recruiter feedback as preference pairs, in SQLite.

A recruiter is shown candidates for a job (``shown_ids``) and picks some (``picked_ids``).
Each pick is preferred over each candidate that was shown but not picked, so one feedback
event with 2 picks out of 5 shown becomes 2 x 3 = 6 pairs. Pairs are stored in the format of
:func:`agentic_match.align.preferences.preference_record` (``query``, ``passage1``,
``passage2``, ``preferred`` plus ids, ``reason``, ``query_kind``), with ``source``
(``"recruiter"``), ``recruiter`` and a store sequence number ``seq`` added, so
:meth:`FeedbackStore.export_jsonl` writes a file that ``agentic-match align`` reads as is.

Typical use (the API stores picks; the feedback graph trains on new pairs)::

    store = FeedbackStore("runs/feedback.sqlite", corpus=corpus)
    store.add_picks("j-1", shown_ids=["r-1", "r-2", "r-3"], picked_ids=["r-2"], recruiter="ana")
    if store.count_new("rankpo") >= 50:            # enough new pairs since the last update
        records = store.pairs(since=store.watermark("rankpo"))
        ...                                         # train RankPO on them
        store.mark_consumed("rankpo", upto=records[-1]["seq"])

Why SQLite: several processes (the API's workers, a training graph) write and read the same
store; every :meth:`FeedbackStore.add_picks` is one transaction, so an event is stored whole or
not at all, and a crash never leaves half an event. The same pair given again by the same
recruiter (a retried request) is stored once. Watermarks are named, so more than one consumer
(RankPO updates, a report) can track what it has seen.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentic_match.align.preferences import preference_record, write_preferences
from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Corpus, DocKind
from agentic_match.errors import DataError, Problem
from agentic_match.files import PRIVATE_FILE_MODE

TextLookup = Callable[[DocKind, str], "str | None"]
"""``(kind, id) -> text`` (``None`` when the id is unknown)."""

SOURCE = "recruiter"
DEFAULT_CONSUMER = "rankpo"

MAX_PAIRS_PER_EVENT = 500
"""One feedback event stores at most this many pairs (picked x shown-but-not-picked)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS texts (
    digest TEXT PRIMARY KEY,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pairs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    query_kind TEXT NOT NULL,
    query_id TEXT NOT NULL,
    passage1_id TEXT NOT NULL,
    passage2_id TEXT NOT NULL,
    query_digest TEXT NOT NULL REFERENCES texts (digest),
    passage1_digest TEXT NOT NULL REFERENCES texts (digest),
    passage2_digest TEXT NOT NULL REFERENCES texts (digest),
    preferred TEXT NOT NULL CHECK (preferred IN ('A', 'B')),
    reason TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    recruiter TEXT NOT NULL DEFAULT '',
    UNIQUE (query_kind, query_id, passage1_id, passage2_id, recruiter)
);
CREATE TABLE IF NOT EXISTS watermarks (
    consumer TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
"""
_PAIRS = (
    "SELECT p.*, q.text AS query, a.text AS passage1, b.text AS passage2 FROM pairs p"
    " JOIN texts q ON q.digest = p.query_digest JOIN texts a ON a.digest = p.passage1_digest"
    " JOIN texts b ON b.digest = p.passage2_digest"
)


def _text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def corpus_lookup(corpus: Corpus, config: RenderConfig = RenderConfig()) -> TextLookup:
    """A :data:`TextLookup` that renders the corpus' documents (the text models see)."""

    def lookup(kind: DocKind, doc_id: str) -> str | None:
        doc = (corpus.jobs if kind == "job" else corpus.resumes).get(doc_id)
        return None if doc is None else render(doc, config)

    return lookup


class FeedbackStore:
    """Recruiter picks stored as preference pairs in one SQLite file.

    Args:
        path: The SQLite file (created with its folder when missing).
        corpus: Where texts of ids come from (rendered with ``render_config``); optional
            when every call passes ``texts`` or a ``lookup`` is given.
        lookup: A custom ``(kind, id) -> text`` function; takes precedence over ``corpus``.
        render_config: How corpus documents are rendered.

    Thread- and process-safe: each call opens its own connection (WAL mode, busy timeout).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        corpus: Corpus | None = None,
        lookup: TextLookup | None = None,
        render_config: RenderConfig = RenderConfig(),
    ):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lookup = lookup or (corpus_lookup(corpus, render_config) if corpus is not None else None)
        with self._connect() as db:
            _migrate_v1(db)
            db.executescript(_SCHEMA)
        # Resume texts and recruiter notes: readable by the owner only (the -wal/-shm files
        # SQLite creates beside it inherit the mode).
        os.chmod(self.path, PRIVATE_FILE_MODE)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            yield db
        finally:
            db.close()

    def _text(self, kind: DocKind, doc_id: str, texts: Mapping[str, str] | None, field: str) -> str:
        # A document the corpus knows keeps the corpus's text: ``texts`` only supplies the
        # text of ids the corpus does not know (an ad hoc query), never replaces a document.
        text = self._lookup(kind, doc_id) if self._lookup is not None else None
        if text is None:
            text = (texts or {}).get(doc_id)
        if text is None or not str(text).strip():
            raise DataError(Problem(str(self.path), None, field, f"no text for {kind} id {doc_id!r}"))
        return str(text)

    def add_picks(
        self,
        job_id: str,
        shown_ids: Sequence[str],
        picked_ids: Sequence[str],
        *,
        recruiter: str | None = None,
        query_kind: DocKind = "job",
        texts: Mapping[str, str] | None = None,
        reason: str = "",
    ) -> int:
        """Store one feedback event; returns the number of new pairs.

        Args:
            job_id: The query document (a job for ``query_kind="job"``, else a resume).
            shown_ids: Candidates the recruiter saw, in the order shown.
            picked_ids: The ones picked; each must be among ``shown_ids``.
            recruiter: Who picked (pairs are unique per recruiter; ``None`` is anonymous).
            query_kind: ``"job"`` (resumes were shown) or ``"resume"`` (jobs were shown).
            texts: ``{id: text}`` of ids the corpus does not know (an ad hoc query); a
                document of the corpus always keeps its own text.
            reason: Stored with every pair (e.g. the recruiter's note).

        Raises:
            DataError: a picked id was not shown, ids repeat, a text is unknown, or the
                event would store more than ``MAX_PAIRS_PER_EVENT`` pairs. Nothing is
                stored then.
        """
        if query_kind not in ("job", "resume"):
            raise DataError(
                Problem(str(self.path), None, "query_kind", f"must be 'job' or 'resume', not {query_kind!r}")
            )
        shown = [str(x) for x in shown_ids]
        picked = [str(x) for x in picked_ids]
        problems = []
        if not str(job_id).strip():
            problems.append(Problem(str(self.path), None, "job_id", "empty id"))
        if len(set(shown)) != len(shown):
            problems.append(Problem(str(self.path), None, "shown_ids", "an id is listed twice"))
        if len(set(picked)) != len(picked):
            problems.append(Problem(str(self.path), None, "picked_ids", "an id is listed twice"))
        unknown = [p for p in picked if p not in set(shown)]
        if unknown:
            problems.append(Problem(str(self.path), None, "picked_ids", f"not among shown_ids: {unknown}"))
        if problems:
            raise DataError(problems)
        rejected = [s for s in shown if s not in set(picked)]
        if not picked or not rejected:
            return 0  # nothing picked, or everything picked: no preference to learn
        if len(picked) * len(rejected) > MAX_PAIRS_PER_EVENT:
            raise DataError(
                Problem(
                    str(self.path),
                    None,
                    "picked_ids",
                    f"{len(picked)} picks x {len(rejected)} others = {len(picked) * len(rejected)} pairs; "
                    f"one event stores at most {MAX_PAIRS_PER_EVENT}",
                )
            )
        cand_kind: DocKind = "resume" if query_kind == "job" else "job"
        query = self._text(query_kind, str(job_id), texts, "job_id")
        cand = {i: self._text(cand_kind, i, texts, "shown_ids") for i in [*picked, *rejected]}
        now = time.time()
        rows = []
        for c in picked:
            for r in rejected:
                rec = preference_record(
                    str(job_id), c, r, query, cand[c], cand[r], "A", reason=reason, query_kind=query_kind
                )
                rows.append((now, rec, recruiter or ""))
        texts_by_digest = {_text_digest(t): t for t in [query, *cand.values()]}
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR IGNORE INTO texts (digest, text) VALUES (?, ?)", texts_by_digest.items())
                before = db.total_changes
                db.executemany(
                    "INSERT OR IGNORE INTO pairs (created_at, query_kind, query_id, passage1_id, passage2_id,"
                    " query_digest, passage1_digest, passage2_digest, preferred, reason, source, recruiter)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            t,
                            r["query_kind"],
                            r["query_id"],
                            r["passage1_id"],
                            r["passage2_id"],
                            _text_digest(r["query"]),
                            _text_digest(r["passage1"]),
                            _text_digest(r["passage2"]),
                            r["preferred"],
                            r["reason"],
                            SOURCE,
                            who,
                        )
                        for t, r, who in rows
                    ],
                )
                added = db.total_changes - before
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return added

    def pairs(self, since: int | None = None, *, limit: int | None = None) -> list[dict[str, Any]]:
        """Stored pairs with ``seq > since`` (all when ``None``), oldest first.

        Each is a :func:`preference_record` dict plus ``seq``, ``source``, ``recruiter`` and
        ``created_at`` (Unix seconds).
        """
        sql = _PAIRS + " WHERE p.seq > ? ORDER BY p.seq"
        args: list[Any] = [since or 0]
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self._connect() as db:
            rows = db.execute(sql, args).fetchall()
        return [_record(row) for row in rows]

    def last_seq(self) -> int:
        """The sequence number of the newest pair (0 when empty)."""
        with self._connect() as db:
            return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM pairs").fetchone()[0])

    def __len__(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM pairs").fetchone()[0])

    def watermark(self, consumer: str = DEFAULT_CONSUMER) -> int:
        """The last ``seq`` that ``consumer`` has consumed (0 when never)."""
        with self._connect() as db:
            row = db.execute("SELECT seq FROM watermarks WHERE consumer = ?", (consumer,)).fetchone()
        return int(row[0]) if row else 0

    def count_new(self, since_marker: int | str = DEFAULT_CONSUMER) -> int:
        """Pairs newer than a ``seq`` (an int) or than a consumer's watermark (its name)."""
        since = self.watermark(since_marker) if isinstance(since_marker, str) else int(since_marker)
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM pairs WHERE seq > ?", (since,)).fetchone()[0])

    def mark_consumed(self, consumer: str = DEFAULT_CONSUMER, upto: int | None = None) -> int:
        """Move ``consumer``'s watermark to ``upto`` (default: the newest pair); returns it.

        Pass the ``seq`` of the last pair actually used, so pairs added while training ran
        stay new. A watermark never moves backwards.
        """
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                target = (
                    int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM pairs").fetchone()[0]) if upto is None else upto
                )
                row = db.execute("SELECT seq FROM watermarks WHERE consumer = ?", (consumer,)).fetchone()
                target = max(target, int(row[0]) if row else 0)
                db.execute(
                    "INSERT INTO watermarks (consumer, seq, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT(consumer) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at",
                    (consumer, target, time.time()),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return target

    def export_jsonl(self, path: str | Path, since: int | None = None) -> Path:
        """Write pairs with ``seq > since`` as a preference file (atomically), for ``align``.

        Raises:
            DataError: there is no such pair (an empty preference file is useless).
        """
        records = self.pairs(since)
        if not records:
            raise DataError(Problem(str(self.path), None, None, f"no feedback pair after seq {since or 0}"))
        return write_preferences(path, records)


def _migrate_v1(db: sqlite3.Connection) -> None:
    """A store written before texts were kept once (text columns in ``pairs``): convert it."""
    cols = {r[1] for r in db.execute("PRAGMA table_info(pairs)").fetchall()}
    if "query" not in cols:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("ALTER TABLE pairs RENAME TO pairs_v1")
        # Statement by statement: executescript would commit the open transaction first.
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        old = db.execute("SELECT * FROM pairs_v1 ORDER BY seq").fetchall()
        for r in old:
            for t in (r["query"], r["passage1"], r["passage2"]):
                db.execute("INSERT OR IGNORE INTO texts (digest, text) VALUES (?, ?)", (_text_digest(t), t))
            db.execute(
                "INSERT INTO pairs (seq, created_at, query_kind, query_id, passage1_id, passage2_id, query_digest,"
                " passage1_digest, passage2_digest, preferred, reason, source, recruiter)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    r["seq"], r["created_at"], r["query_kind"], r["query_id"], r["passage1_id"], r["passage2_id"],
                    _text_digest(r["query"]), _text_digest(r["passage1"]), _text_digest(r["passage2"]),
                    r["preferred"], r["reason"], r["source"], r["recruiter"],
                ),
            )  # fmt: skip
        db.execute("DROP TABLE pairs_v1")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _record(row: sqlite3.Row) -> dict[str, Any]:
    rec = preference_record(
        row["query_id"],
        row["passage1_id"],
        row["passage2_id"],
        row["query"],
        row["passage1"],
        row["passage2"],
        row["preferred"],
        reason=row["reason"],
        query_kind=row["query_kind"],
    )
    rec.update(seq=row["seq"], source=row["source"], recruiter=row["recruiter"] or None, created_at=row["created_at"])
    return rec


__all__ = ["DEFAULT_CONSUMER", "MAX_PAIRS_PER_EVENT", "FeedbackStore", "TextLookup", "corpus_lookup"]
