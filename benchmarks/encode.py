"""Encoding speed: ``BiEncoder.encode`` against plain ``SentenceTransformer.encode``.

The same 5,000 resume texts of the shared corpus (each resume, then the second and first half
of each resume, so no text repeats and nothing is served from a memo), the same model
(all-MiniLM-L6-v2, 256 tokens), the same batch size, one process. The texts are cut into
blocks and each block is encoded by both, alternating which goes first, so that a slow
drift of the machine favours neither; the spread of the per-block ratios says how much of a
difference is noise.

    python benchmarks/encode.py            # writes benchmarks/results/encode.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]


def texts_of(data: Path, n: int) -> list[str]:
    from agentic_match.data import load_benchmark, render

    resumes = [render(d) for d in load_benchmark(data).resumes.values()]
    # the corpus has 2,481 resumes: each one, its second half and its first half make the
    # 5,000 distinct texts (distinct, so the memo serves nothing)
    second = [t[len(t) // 2 :] for t in resumes]
    first = [t[: len(t) // 2] for t in resumes]
    out = list(dict.fromkeys(resumes + second + first))
    if len(out) < n:
        raise SystemExit(f"only {len(out)} distinct texts in {data}")
    return out[:n]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "benchmark" / "v1"))
    p.add_argument("--texts", type=int, default=5000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--blocks", type=int, default=10, help="Interleaved blocks (alternating which side goes first).")
    args = p.parse_args()

    from sentence_transformers import SentenceTransformer

    from agentic_match.evaluation import write_results
    from agentic_match.models import resolve_encoder
    from agentic_match.retrieval.encoder import BiEncoder

    texts = texts_of(Path(args.data), args.texts)
    plain = SentenceTransformer(str(resolve_encoder("all-minilm-l6-v2")), device="cpu", local_files_only=True)
    ours = BiEncoder.load("all-minilm-l6-v2", device="cpu", batch_size=args.batch_size)
    plain.encode(texts[:64], batch_size=args.batch_size)  # warm-up of both (thread pools, allocator)
    ours.encode(texts[:64], show_progress=False)
    ours.clear_memo()
    seconds = {"plain": 0.0, "ours": 0.0}
    ratios = []  # per block: plain seconds / ours seconds on the same texts
    t_start = time.perf_counter()
    size = -(-len(texts) // args.blocks)
    for b, a in enumerate(range(0, len(texts), size)):
        part = texts[a : a + size]
        took = {}
        # ABBA order over the blocks: a slow drift of the machine favours neither side.
        for who in ("plain", "ours") if b % 2 == 0 else ("ours", "plain"):
            t = time.perf_counter()
            if who == "plain":
                plain.encode(part, batch_size=args.batch_size, normalize_embeddings=True, convert_to_numpy=True)
            else:
                ours.encode(part)
            took[who] = time.perf_counter() - t
            seconds[who] += took[who]
        ratios.append(took["plain"] / took["ours"])
        print(f"block {b + 1}/{args.blocks}: {len(part)} texts, plain {took['plain']:.1f}s, ours {took['ours']:.1f}s")
    rate = {k: len(texts) / v for k, v in seconds.items()}

    def row(system: str, who: str, **extra: float) -> dict:
        metrics = {"texts_per_s": round(rate[who], 2), "texts": len(texts), "wall_s": round(seconds[who], 1)}
        return {"system": system, "task": "encode_resumes", "metrics": {**metrics, **extra}}

    rows = [
        row("sentence-transformers SentenceTransformer.encode", "plain"),
        row(
            "agentic_match BiEncoder.encode",
            "ours",
            ratio_to_plain=round(rate["ours"] / rate["plain"], 3),
            block_ratio_mean=round(statistics.mean(ratios), 3),
            block_ratio_sd=round(statistics.stdev(ratios), 3) if len(ratios) > 1 else 0.0,
        ),
    ]
    cmd = "python benchmarks/encode.py " + " ".join(sys.argv[1:])
    notes = {"model": "all-minilm-l6-v2", "max_seq_length": ours.max_seq_length, "batch_size": args.batch_size}
    write_results(
        "encode", rows, cmd.strip(), time.perf_counter() - t_start, out_dir=REPO / "benchmarks" / "results", notes=notes
    )
    print(f"BiEncoder / SentenceTransformer texts/s: {rate['ours']:.1f} / {rate['plain']:.1f}")


if __name__ == "__main__":
    main()
