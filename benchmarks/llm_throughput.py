"""LLM throughput through the real vLLM server: sequential vs concurrent, and a cached rerun.

The same 32 prompts are sent one at a time, then 16 at a time (each phase with its own empty
cache, so every request reaches the server), then again with the concurrent phase's cache
(no request may reach the server). Every answer is forced to the same length
(``ignore_eos``) so tokens/s compare like with like.

    python benchmarks/llm_throughput.py [--model smollm2-135m] [--max-tokens 128]

Targets (issue 2): concurrent / sequential tokens/s >= 5x on 2 cores; cached rerun < 2 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from agentic_match.config import load_settings
from agentic_match.evaluation.results import write_results
from agentic_match.llm import GenerationCache, LLMClient, ManagedServer, request_count

TOPICS = [
    "a backend engineer",
    "a registered nurse",
    "a staff accountant",
    "a warehouse supervisor",
    "a data analyst",
    "a sales representative",
    "a line cook",
    "a school teacher",
]
PROMPTS = [
    f"Write a short professional summary for {TOPICS[i % len(TOPICS)]} with {1 + i // len(TOPICS)} years of experience."
    for i in range(32)
]


def _client(info, cache_file: Path, concurrency: int) -> LLMClient:
    return LLMClient(
        info.base_url,
        info.api_key,
        info.model,
        cache=GenerationCache(cache_file),
        cache_namespace=f"{info.model}@{info.fingerprint}",
        max_concurrency=concurrency,
        timeout_s=600,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m", help="generator spec")
    ap.add_argument("--max-tokens", type=int, default=128, help="tokens generated per prompt")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--out-dir", default="benchmarks/results")
    args = ap.parse_args(argv)

    t_all = time.perf_counter()
    settings = load_settings(overrides={"llm": {"model": args.model}})
    msgs = [[{"role": "user", "content": p}] for p in PROMPTS]
    sampling = {"max_tokens": args.max_tokens, "extra_body": {"ignore_eos": True}}
    rows = []
    with ManagedServer(args.model, settings) as info, tempfile.TemporaryDirectory() as tmp:
        warm = _client(info, Path(tmp) / "warm.sqlite", 1)
        warm.chat([{"role": "user", "content": "warm up"}], max_tokens=8)  # first call compiles kernels

        seq = _client(info, Path(tmp) / "seq.sqlite", 1)
        t = time.perf_counter()
        seq_tokens = sum(seq.chat(m, **sampling).completion_tokens for m in msgs)
        seq_s = time.perf_counter() - t

        conc = _client(info, Path(tmp) / "conc.sqlite", args.concurrency)
        t = time.perf_counter()
        conc_tokens = sum(c.completion_tokens for c in conc.chat_many(msgs, **sampling))
        conc_s = time.perf_counter() - t

        before = request_count(info.root_url)
        rerun = _client(info, Path(tmp) / "conc.sqlite", args.concurrency)
        t = time.perf_counter()
        cached = rerun.chat_many(msgs, **sampling)
        cached_s = time.perf_counter() - t
        new_requests = request_count(info.root_url) - before
        assert all(c.cached for c in cached), "cached rerun reached the server"

    seq_tps, conc_tps = seq_tokens / seq_s, conc_tokens / conc_s
    ratio = conc_tps / seq_tps
    system = f"{args.model} on vLLM (managed server)"
    rows = [
        {
            "system": system,
            "task": "sequential",
            "metrics": {"tokens_per_s": round(seq_tps, 1), "wall_s": round(seq_s, 2), "tokens": seq_tokens},
        },
        {
            "system": system,
            "task": f"concurrency_{args.concurrency}",
            "metrics": {
                "tokens_per_s": round(conc_tps, 1),
                "wall_s": round(conc_s, 2),
                "tokens": conc_tokens,
                "speedup": round(ratio, 2),
            },
        },
        {
            "system": system,
            "task": "cached_rerun",
            "metrics": {"wall_s": round(cached_s, 3), "requests_reaching_server": new_requests},
        },
    ]
    path = write_results(
        "llm_throughput",
        rows,
        command="python " + " ".join([sys.argv[0], *(argv or sys.argv[1:])]),
        wall_s=time.perf_counter() - t_all,
        out_dir=args.out_dir,
    )
    print(f"sequential      {seq_tps:7.1f} tok/s  ({seq_tokens} tokens in {seq_s:.1f}s)")
    print(f"concurrency {args.concurrency:<3} {conc_tps:7.1f} tok/s  ({conc_tokens} tokens in {conc_s:.1f}s)")
    print(f"ratio           {ratio:7.2f}x  (target >= 5x: {'met' if ratio >= 5 else 'MISSED'})")
    print(f"cached rerun    {cached_s:7.3f} s    ({new_requests:.0f} requests reached the server; target < 2 s)")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
