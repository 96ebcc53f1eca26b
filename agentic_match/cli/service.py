"""``agentic-match api`` (the HTTP service) and ``agentic-match match`` (one query, streamed).

Both build one :class:`~agentic_match.matching.Matcher` over a corpus folder in the
benchmark layout (``--data``; default: the demo corpus), the configured encoder, an optional
reranker and - unless ``--no-llm`` - the LLM (``llm.base_url`` or the managed vLLM server,
started or reused). ``match`` runs the ``match`` graph and prints candidates as soon as they
are retrieved, then each explanation as it arrives.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape

from agentic_match.cli.checks import free_port, usable_store
from agentic_match.cli.options import config_options
from agentic_match.errors import ConfigError
from agentic_match.matching.matcher import MatchConfig

API_KEY_ENV = "AGENTIC_MATCH_API_KEY"
LOOPBACK = ("127.0.0.1", "localhost", "::1")

Data = Annotated[
    Optional[Path], typer.Option("--data", help="Corpus folder in the benchmark layout (default: the demo corpus).")
]
Encoder = Annotated[
    Optional[str], typer.Option("--encoder", help="Encoder spec or trained model folder (default: 'encoder' setting).")
]
RerankerOpt = Annotated[
    Optional[str], typer.Option("--reranker", help="'llm' (P(yes) of the served model) or a cross-encoder folder.")
]
UseLLM = Annotated[
    bool,
    typer.Option("--llm/--no-llm", help="Use the LLM (augmentation, explanations); --no-llm starts no server."),
]


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


@contextlib.contextmanager
def _matcher(
    data: Path | None,
    encoder: str | None,
    reranker: str | None,
    use_llm: bool,
    *,
    prepare: bool = True,
    config: Any = None,
):
    from agentic_match.cli.context import settings
    from agentic_match.config import section
    from agentic_match.llm import open_llm
    from agentic_match.matching import build_matcher
    from agentic_match.retrieval.store import IndexStoreConfig

    s = settings()
    if reranker == "llm" and not use_llm:
        raise ConfigError("--reranker llm needs the LLM; drop --no-llm")
    with contextlib.ExitStack() as stack:
        llm = stack.enter_context(open_llm(s)) if use_llm else None
        matcher = build_matcher(
            data=data,
            encoder=encoder or s.encoder,
            reranker=reranker,
            llm=llm,
            config=config,
            prepare=prepare,
            store=section(s, "index", IndexStoreConfig),
        )
        yield matcher, s


@config_options("match", MatchConfig)
def api(
    data: Data = None,
    encoder: Encoder = None,
    reranker: RerankerOpt = None,
    use_llm: UseLLM = True,
    host: Annotated[str, typer.Option(help="Bind address (loopback unless --allow-remote).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8765,
    feedback_db: Annotated[
        Optional[Path], typer.Option("--feedback-db", help="Feedback store (default: <run_dir>/feedback.sqlite).")
    ] = None,
    allow_remote: Annotated[
        bool, typer.Option("--allow-remote", help="Allow a non-loopback --host (put TLS in front of it).")
    ] = False,
    learn_threshold: Annotated[
        int,
        typer.Option(
            "--learn-threshold",
            min=0,
            help="Learn from feedback: this many new preference pairs start a RankPO update in the background "
            "(switched to only if dev nDCG@10 holds; needs dev qrels in --data). 0: only store the picks.",
        ),
    ] = 0,
    feedback_dir: Annotated[
        Optional[Path],
        typer.Option("--feedback-dir", help="Models and history of the updates (default: <run_dir>/feedback)."),
    ] = None,
    threads: Annotated[
        int,
        typer.Option(
            "--threads",
            min=1,
            help="Request handlers that run at once (worker threads; concurrent queries are batched across them).",
        ),
    ] = 40,
    config: MatchConfig | None = None,
) -> None:
    """Serve the HTTP API (match queries and recruiter feedback) until Ctrl-C.

    The API key comes from $AGENTIC_MATCH_API_KEY, else a fresh one is generated and
    printed. The OpenAPI schema is at /openapi.json. With --learn-threshold, recruiters'
    picks retrain the encoder (RankPO) once enough have come in; a restarted service starts
    from the last model an update switched to.
    """
    import uvicorn

    from agentic_match.feedback.store import FeedbackStore
    from agentic_match.service import create_app

    if host not in LOOPBACK and not allow_remote:
        raise ConfigError(f"--host {host} is not a loopback address; add --allow-remote to serve beyond this machine")
    # Before the LLM server, the encoder and the indexes: these fail in a second.
    free_port(host, port)
    from agentic_match.cli.context import settings as _settings

    usable_store(feedback_db or Path(_settings().run_dir) / "feedback.sqlite", "--feedback-db")
    console = _console()
    key = os.environ.get(API_KEY_ENV) or secrets.token_urlsafe(24)
    if use_llm:
        console.print("starting or reusing the LLM server (1-3 minutes on 2 CPU cores on a first start)...")
    with _matcher(data, encoder, reranker, use_llm, config=config) as (matcher, s):
        store = FeedbackStore(feedback_db or Path(s.run_dir) / "feedback.sqlite", corpus=matcher.corpus)
        learner = None
        if learn_threshold:
            from agentic_match.config import section
            from agentic_match.feedback import FeedbackConfig
            from agentic_match.feedback.learner import learner_for

            folder = feedback_dir or Path(s.run_dir) / "feedback"
            fb = section(s, "feedback", FeedbackConfig, {"threshold": learn_threshold})
            learner = learner_for(matcher, store, folder, encoder or s.encoder, fb)
            console.print(
                f"learning from feedback: an update every {learn_threshold} new pairs; "
                f"model in use {learner.registry.current()} (history in {folder})"
            )
        app = create_app(matcher, store, key, learner=learner, threads=threads)
        console.print(
            f"[bold green]serving[/] http://{host}:{port}  ({len(matcher.corpus.resumes)} resumes, "
            f"{len(matcher.corpus.jobs)} jobs; llm={'on' if use_llm else 'off'}, reranker={reranker or 'off'})"
        )
        if os.environ.get(API_KEY_ENV):
            console.print(f"api key: from ${API_KEY_ENV}")
        else:
            console.print(f"api key: {key}   (send as 'X-API-Key: KEY'; set ${API_KEY_ENV} to choose it)")
        console.print(f"feedback store: {store.path}; schema: http://{host}:{port}/openapi.json")
        # uvicorn stops on SIGINT/SIGTERM and returns, so the LLM server is stopped on the way out.
        try:
            uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        finally:
            if learner is not None:
                console.print("waiting for the running feedback update to finish (it resumes if killed)...")
                learner.close()


@config_options("match", MatchConfig)
def match(
    job: Annotated[Optional[str], typer.Option("--job", help="Id of a job in the corpus: rank resumes.")] = None,
    resume: Annotated[Optional[str], typer.Option("--resume", help="Id of a resume in the corpus: rank jobs.")] = None,
    text: Annotated[Optional[str], typer.Option("--text", help="An ad hoc query text (with --kind).")] = None,
    kind: Annotated[str, typer.Option("--kind", help="Kind of the --text query: job or resume.")] = "job",
    data: Data = None,
    encoder: Encoder = None,
    reranker: RerankerOpt = None,
    rerank: Annotated[bool, typer.Option("--rerank", help="Rerank with --reranker.")] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Explain every candidate (--explain-method; 'evidence' needs no LLM).")
    ] = False,
    augment: Annotated[bool, typer.Option("--augment/--no-augment", help="HyRe / IRC augmentation.")] = True,
    use_llm: UseLLM = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON (no streaming).")] = False,
    config: MatchConfig | None = None,
) -> None:
    """Match one query through the ``match`` graph, printing partial results as they come."""
    from agentic_match.data.schema import Document
    from graphs.match import build_graph, inputs_for, run_match

    assert config is not None  # built by config_options
    k = config.k
    given = [x for x in (job, resume, text) if x is not None]
    if len(given) != 1:
        raise ConfigError("give exactly one of --job ID, --resume ID or --text TEXT")
    if kind not in ("job", "resume"):
        raise ConfigError(f"--kind must be job or resume, not {kind!r}")
    if rerank and not reranker:
        raise ConfigError("--rerank needs --reranker (llm or a cross-encoder folder)")
    if explain and not use_llm and config.explain_needs_llm:
        raise ConfigError(f"--explain-method {config.explain_method} needs the LLM; drop --no-llm")
    console = _console()
    if text is not None:
        query: Any = Document("query", kind, text=text)  # type: ignore[arg-type]
        inputs = inputs_for(query, k=k, augment=augment, rerank=rerank, explain=explain)
    else:
        qkind = "job" if job is not None else "resume"
        inputs = inputs_for(job or resume or "", kind=qkind, k=k, augment=augment, rerank=rerank, explain=explain)
    # One query needs one index: the other is not built.
    with _matcher(data, encoder, reranker if rerank else None, use_llm, prepare=False, config=config) as (matcher, _s):
        on_event = None if as_json else _printer(console)
        result = run_match(build_graph(matcher), inputs, on_event=on_event)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    console.print(f"done in {result.timings.get('total_s', sum(result.timings.values())):.1f}s")


def _printer(console: Console):
    def on_event(mode: str, part: Any) -> None:
        if mode != "custom" or not isinstance(part, dict):
            return
        ev = part.get("event")
        if ev == "augmented":
            aug = part["augmentation"]
            what = "applied" if aug["applied"] else f"skipped ({aug.get('note')})"
            console.print(f"[bold]{part['query_id']}[/]: augmentation {aug.get('method') or ''} {what}")
        elif ev in ("retrieved", "reranked"):
            console.print(f"[bold]{ev}[/]:")
            for i, c in enumerate(part["candidates"], 1):
                console.print(f"  {i:>2}. {c['id']}  {c['score']:.3f}")
        elif ev == "explanation":
            e = part["explanation"]
            shown, total = len(e["met"]), len(e["met"]) + len(e["missing"])
            head = f"{shown} of {total} requirements shown" if total else ""
            text = " - ".join(x for x in (head, e.get("summary"), e.get("problem")) if x)
            console.print(f"[bold]{part['id']}[/]: {escape(text)}")

            def score(ev_: dict) -> str:
                return f" ({ev_['score']:.2f})" if ev_.get("score") is not None else ""

            for ev_ in e["met"]:
                console.print(f'   [green]met[/] {escape(ev_["requirement"])}{score(ev_)}: "{escape(ev_["quote"])}"')
            for ev_ in e["missing"]:
                # "not shown": the resume may still have it in words the evidence did not reach.
                console.print(f"   [yellow]not shown[/] {escape(ev_['requirement'])}{score(ev_)}")
            if e.get("dropped_quotes"):
                console.print(f"   ({e['dropped_quotes']} quote(s) not found in the resume were dropped)")

    return on_event


def register(app: typer.Typer) -> None:
    """Add ``api`` and ``match`` to the root app."""
    app.command("api")(api)
    app.command("match")(match)
