"""Window benchmark: what ConFit* gains and costs when it reads 128, 256 or 512 tokens.

The encoder reads the same window in training and in serving (the saved model records it).
With MiniLM's tokenizer the rendered resumes have a median of about 980 tokens and six job
posts in ten exceed 256, so a 256 window reads a quarter of a resume; MiniLM's position
embeddings reach 512. Rows per window, on benchmark v1's test split: the untrained encoder
and ConFit* with rejected-label negatives (the paper's baseline); ``--rows`` adds others of
the retrieval benchmark (``confit-rum-t1``). Cost: training seconds and the wall time of
each row on this machine.

Every row is the retrieval benchmark's own (``benchmarks/retrieval.py``, its ``Bench``), run
in a work folder per window, so the rows are resumable and cached the same way.

    nice -n 5 python benchmarks/window.py > ~/.cache/agentic-match/bench-window.log 2>&1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import retrieval as rb  # noqa: E402  (the retrieval benchmark's Bench)

from agentic_match.evaluation import results_table_markdown, write_results  # noqa: E402

# RUM at 256 is a row of the HyRe benchmark; here the cheaper pair shows the trend.
ROWS = ("minilm-raw", "confit-rejected")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(rb.REPO.parent / "shared" / "data" / "benchmark" / "v1"))
    p.add_argument("--work", default="~/.cache/agentic-match/bench-window")
    p.add_argument("--windows", default="128,256,512")
    p.add_argument("--rows", default=",".join(ROWS))
    p.add_argument("--encoder", default="all-minilm-l6-v2")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--band", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args()
    t0 = time.perf_counter()
    out_rows = []
    for w in [int(x) for x in args.windows.split(",")]:
        ns = argparse.Namespace(
            data=args.data,
            work=str(Path(args.work).expanduser() / f"w{w}"),
            encoder=args.encoder,
            epochs=args.epochs,
            batch_size=args.batch_size,
            max_seq_length=w,
            lr=args.lr,
            band=args.band,
            seed=args.seed,
            rows=args.rows,
            progress=False,
        )
        bench = rb.Bench(ns)
        bench.runs_dir = Path(ns.work) / "runs"  # the retrieval benchmark's own run files stay its own
        for r in bench.run():
            for task in rb.TASKS:
                out_rows.append(
                    {
                        "system": f"{r['system']}@{w}",
                        "task": task,
                        "metrics": {**r["metrics"][task], "train_s": r["params"].get("train_s"), "wall_s": r["wall_s"]},
                        "params": {**r["params"], "window": w},
                    }
                )
    total = time.perf_counter() - t0
    if not args.no_write:
        cmd = "python benchmarks/window.py " + " ".join(sys.argv[1:])
        path = write_results("window", out_rows, cmd.strip(), total, out_dir=rb.REPO / "benchmarks" / "results")
        print(results_table_markdown(path))


if __name__ == "__main__":
    main()
