"""Service benchmark: per-query latency of ``match``, and a load test of the HTTP API.

Latency (in this process, through :class:`agentic_match.matching.Matcher`, the path the API
and the ``match`` graph share), per query, on ``--queries`` test jobs (rank resumes) and test
resumes (rank jobs):

* ``augment_uncached`` - the first pass, which generates HyRe / IRC text (the LLM's cost);
* ``match`` - augmentation from the generation cache, embedding (never cached here), FAISS;
* ``match_no_augment`` - the query text as written, embedding, FAISS;
* ``match+rerank`` - the same plus reranking the top ``--rerank-depth`` (``--reranker``: a
  cross-encoder folder, or ``llm`` - P(yes) of the served model, one uncached call per pair);
* ``match+explain`` - plus one explanation per candidate (``--explain-k``), on
  ``--explain-queries`` jobs, uncached, for each method (``evidence``; with an LLM also
  ``evidence+llm`` and ``llm_quotes``).

Load test: ``agentic-match api`` runs in a subprocess on 127.0.0.1 (using this process's
LLM server), and this process drives it with ``--clients`` concurrent async clients (httpx)
for ``--duration`` seconds of ``POST /match``: cached augmentation (each query is sent once
before the clock starts), every query embedded (the API runs with ``--query-cache 0``), no
rerank, no explanation. It reports requests/s, p50 / p99 latency and errors (any non-200 or
failed request; the target is 0), and checks that a request without the key gets 401.

    python benchmarks/service.py --data ../shared/data/benchmark/v1          # full run
    python benchmarks/service.py --duration 5 --queries 4 --no-write         # smoke run

Results go to ``benchmarks/results/service.json`` (``--no-write``: printed only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from agentic_match.config import load_settings
from agentic_match.errors import DataError
from agentic_match.evaluation.results import write_results
from agentic_match.llm import GenerationCache, LLMClient, ManagedServer
from agentic_match.llm.server import free_port
from agentic_match.matching import MatchConfig, Matcher, load_corpus_for_matching, load_reranker


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``."""
    s = sorted(values)
    if not s:
        return float("nan")
    return s[min(len(s) - 1, max(0, int(round(q / 100 * len(s) + 0.5)) - 1))]


def _latency_row(system: str, task: str, seconds: list[float], **extra: Any) -> dict:
    ms = [x * 1000 for x in seconds]
    metrics = {
        "queries": len(ms),
        "p50_ms": round(_pct(ms, 50), 1),
        "p95_ms": round(_pct(ms, 95), 1),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else None,
        **extra,
    }
    _say(f"  {system} / {task}: p50 {metrics['p50_ms']} ms, p95 {metrics['p95_ms']} ms over {len(ms)} queries")
    return {"system": system, "task": task, "metrics": metrics}


def _queries(corpus, kind: str, n: int) -> list[str]:
    try:
        ids = corpus.split_ids(kind, "test")
    except DataError:  # no test split: any documents
        ids = list(corpus.jobs if kind == "job" else corpus.resumes)
    return sorted(ids)[:n]


def _redactor(settings):
    """The prompt redaction the toolkit's own clients apply (personal data out of prompts)."""
    if not settings.privacy.redact_prompts:
        return None
    from functools import partial

    from agentic_match.privacy import redact

    return partial(redact, names=tuple(settings.privacy.redact_names))


def _timed(fn, *args, **kw) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


# --------------------------------------------------------------------------- latency


def latency_rows(args: argparse.Namespace, matcher: Matcher, encoder_name: str) -> list[dict]:
    rows: list[dict] = []
    k = args.k
    plan = [("job", "rank_resume", _queries(matcher.corpus, "job", args.queries))]
    plan.append(("resume", "rank_job", _queries(matcher.corpus, "resume", args.queries)))
    for kind, task, ids in plan:
        _say(f"{task}: {len(ids)} queries, k={k}")
        if matcher.llm is not None:
            first = [_timed(matcher.match, q, kind=kind, k=k)[1] for q in ids]  # fills the generation cache
            rows.append(_latency_row(encoder_name, f"{task}:augment_uncached", first))
            cached, applied = [], 0
            for q in ids:
                res, s = _timed(matcher.match, q, kind=kind, k=k)
                cached.append(s)
                applied += res.augmentation.applied
            rows.append(_latency_row(encoder_name, f"{task}:match", cached, augmented_queries=applied))
        plain = [_timed(matcher.match, q, kind=kind, k=k, augment=False)[1] for q in ids]
        rows.append(_latency_row(encoder_name, f"{task}:match_no_augment", plain))
        if matcher.reranker is not None:
            rr = [_timed(matcher.match, q, kind=kind, k=k, rerank=True)[1] for q in ids]
            rows.append(
                _latency_row(
                    f"{encoder_name} + rerank {args.reranker}", f"{task}:match+rerank", rr, depth=args.rerank_depth
                )
            )
    ids = _queries(matcher.corpus, "job", args.explain_queries)
    base = matcher.config
    # Each explanation method on the same jobs; the LLM ones only when a server is running.
    methods = ["evidence"] + (["evidence+llm", "llm_quotes"] if matcher.llm is not None else [])
    for method in methods:
        matcher.config = dataclasses.replace(base, explain_method=method)
        _say(f"explanations ({method}): {len(ids)} jobs x {args.explain_k} candidates")
        times, dropped, quotes, problems = [], 0, 0, 0
        for q in ids:
            res, s = _timed(matcher.match, q, kind="job", k=args.explain_k, explain=True)
            times.append(s)
            for c in res.candidates:
                e = c.explanation
                dropped += e.dropped_quotes
                quotes += len([x for x in e.met + e.missing if x.quote]) + e.dropped_quotes
                problems += e.problem is not None
        who = args.llm_model if method != "evidence" else "encoder"
        rows.append(
            _latency_row(
                f"{encoder_name} + {who} explanations ({method})",
                "rank_resume:match+explain",
                times,
                k=args.explain_k,
                quotes_dropped_pct=round(100 * dropped / quotes, 1) if quotes else None,
                explanations_failed=problems,
            )
        )
    matcher.config = base
    return rows


# --------------------------------------------------------------------------- load test


def _start_api(args: argparse.Namespace, key: str, port: int, cache_dir: Path, info) -> subprocess.Popen:
    entry = "from agentic_match.cli import main; main()"
    cmd = [sys.executable, "-c", entry, "api", "--port", str(port), "--encoder", args.encoder]
    cmd += ["--query-cache", "0", "--feedback-db", str(Path(args.work) / "feedback.sqlite")]
    if args.data:
        cmd += ["--data", str(args.data)]
    env = {**os.environ, "AGENTIC_MATCH_API_KEY": key, "AGENTIC_MATCH_CACHE_DIR": str(cache_dir)}
    if info is None:
        cmd.append("--no-llm")
    else:  # the benchmark's LLM server, named explicitly: the API must not start a second one
        env.update(
            AGENTIC_MATCH_LLM__BASE_URL=info.base_url,
            AGENTIC_MATCH_LLM__API_KEY=info.api_key or "",
            AGENTIC_MATCH_LLM__MODEL=info.model,
        )
    log = open(Path(args.work) / "api.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    """Stop the API subprocess (its own process group: uvicorn and nothing else)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def _wait_ready(url: str, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API process exited with {proc.returncode}; see its log")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the API did not become healthy in {timeout_s:.0f}s")


async def _load(url: str, key: str, queries: list[str], clients: int, duration: float, k: int) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    deadline = time.perf_counter() + duration

    async def client(i: int, http: httpx.AsyncClient) -> None:
        n = i
        while time.perf_counter() < deadline:
            body = {"kind": "job", "query_id": queries[n % len(queries)], "k": k}
            n += clients
            t = time.perf_counter()
            try:
                r = await http.post(f"{url}/match", json=body, headers={"X-API-Key": key})
                if r.status_code != 200:
                    errors[f"http {r.status_code}"] = errors.get(f"http {r.status_code}", 0) + 1
                    continue
            except httpx.HTTPError as e:
                errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
                continue
            latencies.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=120) as http:
        await asyncio.gather(*(client(i, http) for i in range(clients)))
    wall = time.perf_counter() - t0
    ms = [x * 1000 for x in latencies]
    return {
        "clients": clients,
        "duration_s": round(wall, 1),
        "requests": len(ms),
        "requests_per_s": round(len(ms) / wall, 1),
        "p50_ms": round(_pct(ms, 50), 1),
        "p99_ms": round(_pct(ms, 99), 1),
        "errors": sum(errors.values()),
        "error_kinds": errors,
    }


def load_row(args: argparse.Namespace, queries: list[str], cache_dir: Path, encoder_name: str, info) -> dict:
    key = secrets.token_urlsafe(24)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    _say(f"load test: starting the API on {url} (log: {Path(args.work) / 'api.log'})")
    proc = _start_api(args, key, port, cache_dir, info)
    try:
        _wait_ready(url, proc, args.api_timeout)
        for q in queries:  # one request each so every augmentation is in the cache
            r = httpx.post(
                f"{url}/match",
                json={"kind": "job", "query_id": q, "k": args.k},
                headers={"X-API-Key": key},
                timeout=600,
            )
            r.raise_for_status()
        _say(f"load test: {args.clients} clients for {args.duration:.0f}s")
        m = asyncio.run(_load(url, key, queries, args.clients, args.duration, args.k))
        unauth = httpx.post(f"{url}/match", json={"kind": "job", "query_id": queries[0]}, timeout=30).status_code
    finally:
        _stop(proc)
    m["status_without_key"] = unauth
    _say(
        f"  {m['requests']} requests in {m['duration_s']}s: {m['requests_per_s']} req/s, p50 {m['p50_ms']} ms, "
        f"p99 {m['p99_ms']} ms, errors {m['errors']} {m['error_kinds'] or ''}; without key: HTTP {unauth}"
    )
    what = "no LLM" if info is None else "cached augmentation"
    return {"system": f"agentic-match api ({encoder_name}, {what})", "task": "load_match", "metrics": m}


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None, help="corpus folder in the benchmark layout (default: the demo corpus)")
    ap.add_argument(
        "--encoder-model", dest="encoder", default="all-minilm-l6-v2", help="encoder spec or trained folder"
    )
    ap.add_argument("--llm-model", default="smollm2-135m", help="generator spec served by vLLM")
    ap.add_argument("--reranker", default="llm", help="'llm', a cross-encoder folder, or 'none'")
    ap.add_argument("--rerank-depth", type=int, default=20)
    ap.add_argument("--queries", type=int, default=20, help="queries per direction for latency")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--explain-queries", type=int, default=3)
    ap.add_argument("--explain-k", type=int, default=3)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0, help="load test seconds")
    ap.add_argument("--api-timeout", type=float, default=600.0, help="seconds to wait for the API to be healthy")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-load", action="store_true")
    ap.add_argument(
        "--no-llm", action="store_true", help="no LLM server: retrieval (and a cross-encoder) only, API with --no-llm"
    )
    ap.add_argument("--work", default=str(Path("~/.cache/agentic-match/bench-service").expanduser()))
    ap.add_argument("--no-write", action="store_true", help="print only; do not write benchmarks/results/service.json")
    ap.add_argument("--out-dir", default="benchmarks/results")
    args = ap.parse_args(argv)

    t_all = time.perf_counter()
    Path(args.work).mkdir(parents=True, exist_ok=True)
    settings = load_settings(overrides={"llm": {"model": args.llm_model, "max_concurrency": 16}})
    corpus = load_corpus_for_matching(args.data)
    encoder_name = Path(args.encoder).name
    _say(f"corpus {corpus.source}: {len(corpus.resumes)} resumes, {len(corpus.jobs)} jobs; encoder {args.encoder}")
    rows: list[dict] = []
    # A fresh generation cache per run: "uncached" rows really reach the LLM, and the cached
    # rows are cached by this run's own first pass.
    with contextlib.ExitStack() as stack:
        fresh = stack.enter_context(tempfile.TemporaryDirectory(dir=args.work))
        info, llm = None, None
        if not args.no_llm:
            info = stack.enter_context(ManagedServer(args.llm_model, settings))
            _say(f"LLM server ready: {info.model} at {info.base_url}")
            llm = LLMClient(
                info.base_url,
                info.api_key,
                info.model,
                cache=GenerationCache(Path(fresh) / "generations.sqlite"),
                cache_namespace=f"{info.model}@{info.fingerprint}",
                max_concurrency=16,
                timeout_s=600,
                redact=_redactor(settings),
            )
        from agentic_match.retrieval.encoder import BiEncoder

        use_reranker = args.reranker != "none" and not (args.no_llm and args.reranker == "llm")
        reranker = load_reranker(args.reranker, llm) if use_reranker else None
        matcher = Matcher(
            BiEncoder.load(args.encoder),
            corpus,
            llm=llm,
            reranker=reranker,
            # No query-vector cache: every timed query is embedded (only generations are cached).
            config=MatchConfig(k=args.k, rerank_depth=args.rerank_depth, query_cache=0),
        )
        _, build_s = _timed(matcher.prepare)
        _say(f"indexes built in {build_s:.1f}s")
        if not args.skip_latency:
            rows += latency_rows(args, matcher, encoder_name)
        if not args.skip_load:
            queries = _queries(corpus, "job", args.queries)
            rows.append(load_row(args, queries, Path(fresh) / "api", encoder_name, info))
    wall = time.perf_counter() - t_all
    _say(f"done in {wall:.0f}s")
    if args.no_write:
        return 0
    path = write_results(
        "service",
        rows,
        command="python " + " ".join([sys.argv[0], *(argv if argv is not None else sys.argv[1:])]),
        wall_s=wall,
        out_dir=args.out_dir,
    )
    _say(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
