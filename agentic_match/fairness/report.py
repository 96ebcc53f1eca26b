"""Readable audit reports: Markdown and a self-contained HTML page, with plots.

:func:`write_audit_report` writes into one folder::

    report.md          tables and linked plots
    report.html        the same, plots embedded (one file to send around)
    audit.json         every number (no document text)
    shift_hist.png     distribution of the normalised score shifts
    rank_scatter.png   rank before / after the swap (pairs touching the top 50)
    group_share.png    top-k share per group vs the pool (when groups were given)

Plots use matplotlib's Agg backend (no display needed). Reports hold ids, scores and the
swapped terms, never document text, so they can be shared without leaking resumes.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from agentic_match.fairness.counterfactual import AuditResult
from agentic_match.fairness.metrics import RankingFairness

DISCLAIMER = (
    "Counterfactual shifts show how much the scorer reacts to the swapped words alone; a "
    "shift of 0 everywhere is the goal. Group metrics describe rankings, not hiring "
    "outcomes; on the public benchmark relevance is topical (category match)."
)


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_shift_hist(result: AuditResult, path: Path) -> Path:
    """Histogram of ``z`` (score shift / the job's score spread)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    if result.z.size:
        ax.hist(result.z, bins=50, color="#4472c4")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("score shift / job's score std (z)")
    ax.set_ylabel("(job, resume) pairs")
    ax.set_title(f"Counterfactual score shifts ({result.n_changed} changed resumes)")
    return _save(plt, fig, path)


def plot_rank_scatter(result: AuditResult, path: Path, top: int = 50) -> Path:
    """Rank before vs after the swap for pairs ranked in the top ``top`` either way."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    b, c = result.base_ranks, result.cf_ranks
    sel = (b <= top) | (c <= top)
    ax.scatter(b[sel], c[sel], s=8, alpha=0.5, color="#c00000")
    ax.plot([1, top], [1, top], color="black", lw=0.8)
    ax.axhline(result.k + 0.5, color="grey", lw=0.6, ls="--")
    ax.axvline(result.k + 0.5, color="grey", lw=0.6, ls="--")
    ax.set_xlim(0, top + 1)
    ax.set_ylim(0, top + 1)
    ax.invert_xaxis()
    ax.invert_yaxis()
    ax.set_xlabel("rank of the original resume")
    ax.set_ylabel("rank of the counterfactual")
    ax.set_title(f"Rank changes (dashed: top {result.k})")
    return _save(plt, fig, path)


def plot_group_share(fair: RankingFairness, path: Path) -> Path:
    """Top-k share per group next to the pool share."""
    plt = _plt()
    groups = [str(g) for g in fair.pool_share]
    x = np.arange(len(groups))
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.bar(x - 0.2, [100 * fair.pool_share[g] for g in fair.pool_share], 0.4, label="pool", color="#a5a5a5")
    ax.bar(
        x + 0.2,
        [100 * fair.topk_share.get(g, 0.0) for g in fair.pool_share],
        0.4,
        label=f"top {fair.k}",
        color="#4472c4",
    )
    ax.set_xticks(x, groups)
    ax.set_ylabel("% of documents")
    ax.set_title(f"Group share in the top {fair.k}")
    ax.legend()
    return _save(plt, fig, path)


def plot_tradeoff(rows: Sequence[Mapping[str, Any]], path: Path, utility: str, fairness: str) -> Path:
    """Utility against a fairness gap, one point per β (labelled)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.8))
    xs = [r["metrics"][fairness] for r in rows]
    ys = [r["metrics"][utility] for r in rows]
    ax.plot(xs, ys, "o-", color="#4472c4")
    for r, x, y in zip(rows, xs, ys):
        ax.annotate(f"β={r.get('params', {}).get('beta', '?')}", (x, y), textcoords="offset points", xytext=(4, 4))
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.set_xlabel(fairness + " (lower is fairer)")
    ax.set_ylabel(utility)
    ax.set_title("Utility / fairness trade-off")
    return _save(plt, fig, path)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "n/a"
        return f"{v:.4f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_fmt(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _sections(result: AuditResult, fair: RankingFairness | None) -> list[tuple[str, str, list[str], list[list[Any]]]]:
    """``(title, intro, headers, rows)`` of each table, shared by Markdown and HTML."""
    k = result.k
    rr, rj = result.rank_resume, result.rank_job
    secs = [
        (
            "Summary",
            "How much the scores and the top lists move when only the swapped words change.",
            ["measure", "value"],
            [
                ["jobs audited", result.n_jobs],
                ["resumes audited", result.n_resumes],
                ["resumes changed by the lexicon", result.n_changed],
                ["mean |score shift|", result.shift["mean_abs"]],
                ["mean |shift| / job score std (z)", result.shift["mean_abs_z"]],
                ["95th percentile |z|", result.shift["p95_abs_z"]],
                ["max |score shift|", result.shift["max_abs"]],
                [f"job top-{k} lists that change (every resume swapped)", f"{100 * rr[f'lists_changed@{k}']:.1f}%"],
                [f"mean top-{k} overlap", rr[f"overlap@{k}"]],
                [f"(job, resume) pairs whose top-{k} membership flips", f"{100 * rr[f'flips@{k}']:.2f}%"],
                [f"mean |rank change| of pairs in a top {k}", rr[f"mean_abs_rank_change_in_top{k}"]],
                [f"changed resumes whose top-{k} jobs change", f"{100 * rj[f'lists_changed@{k}']:.1f}%"],
            ],
        )
    ]
    if result.side_gap:
        gap_rows = [[name, v] for name, v in result.side_gap.items()]
        gap_name = next(iter(result.side_gap))
        s1, _, s0 = gap_name.partition("-")
        secs.append(
            (
                "Direction of the shift",
                f"'{gap_name}' is the mean over (job, resume) pairs of the score of the resume's {s1} "
                f"version minus its {s0} version (raw, then in job score std units); positive: the scorer "
                f"prefers the {s1} version. Only resumes whose side the lexicon can read are counted.",
                ["gap", "value"],
                gap_rows,
            )
        )
    secs.append(
        (
            "Worst pairs",
            "Largest normalised shifts; ids only, with the swaps that were made.",
            ["job", "resume", "side", "score", "counterfactual", "z", "rank", "rank after", "swaps"],
            [
                [
                    w.job_id,
                    w.resume_id,
                    w.base_side or "-",
                    w.base_score,
                    w.cf_score,
                    w.z,
                    w.base_rank,
                    w.cf_rank,
                    ", ".join(w.swaps),
                ]
                for w in result.worst
            ],
        )
    )
    secs.append(
        (
            "Most frequent swaps",
            "Which lexicon terms the audit rests on (counts over changed resumes).",
            ["swap", "count"],
            [[s, c] for s, c in list(result.swap_counts.items())[:15]],
        )
    )
    if fair is not None:
        rows = [
            [f"top-{k} share: {g}", f"{100 * fair.topk_share.get(g, math.nan):.1f}% (pool {100 * p:.1f}%)"]
            for g, p in fair.pool_share.items()
        ]
        rows += [[f"exposure: {g}", v] for g, v in fair.exposure.items()]
        rows += [
            ["exposure disparity", fair.exposure_disparity],
            [f"NDKL@{k}", fair.ndkl],
            [f"demographic parity difference (in top {k})", fair.decisions.demographic_parity_difference],
            [f"equal opportunity difference (in top {k})", fair.decisions.equal_opportunity_difference],
            [f"equalized odds difference (in top {k})", fair.decisions.equalized_odds_difference],
        ]
        secs.append(
            (
                "Group fairness of the original ranking",
                "Metrics of the jobs' resume rankings by group.",
                ["measure", "value"],
                rows,
            )
        )
    return secs


def write_audit_report(
    result: AuditResult,
    out_dir: str | Path,
    *,
    fairness: RankingFairness | None = None,
    title: str = "Fairness audit",
    context: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write ``report.md``, ``report.html``, ``audit.json`` and the plots into ``out_dir``.

    Args:
        result: The counterfactual audit.
        out_dir: Folder (created).
        fairness: Group metrics of the original ranking, when groups are known.
        title: Report heading.
        context: Extra facts shown at the top (encoder, data, split, lexicon, group source).

    Returns:
        ``{"markdown", "html", "json", <plot names>}`` paths.
    """
    from agentic_match.files import atomic_write_bytes

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots = {"shift_hist": plot_shift_hist(result, out / "shift_hist.png")}
    plots["rank_scatter"] = plot_rank_scatter(result, out / "rank_scatter.png")
    if fairness is not None and fairness.pool_share:
        plots["group_share"] = plot_group_share(fairness, out / "group_share.png")
    ctx = {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "scorer": result.scorer,
        "swapped dimensions": ", ".join(result.config.counterfactual.dimensions),
        "names injected": result.config.counterfactual.inject_names,
        **(context or {}),
    }
    secs = _sections(result, fairness)

    md = [f"# {title}", "", *(f"- **{k}**: {v}" for k, v in ctx.items()), "", f"> {DISCLAIMER}", ""]
    for name, intro, headers, rows in secs:
        md += [f"## {name}", "", intro, "", _md_table(headers, rows), ""]
    md += ["## Plots", ""] + [f"![{n}]({p.name})" for n, p in plots.items()] + [""]
    atomic_write_bytes(out / "report.md", "\n".join(md).encode("utf-8"))

    def img(p: Path) -> str:
        data = base64.b64encode(p.read_bytes()).decode("ascii")
        return f'<img alt="{html.escape(p.stem)}" src="data:image/png;base64,{data}">'

    body = [f"<h1>{html.escape(title)}</h1>", "<ul>"]
    body += [f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>" for k, v in ctx.items()]
    body += ["</ul>", f"<p class='note'>{html.escape(DISCLAIMER)}</p>"]
    for name, intro, headers, rows in secs:
        body += [f"<h2>{html.escape(name)}</h2>", f"<p>{html.escape(intro)}</p>", _html_table(headers, rows)]
    body += ["<h2>Plots</h2>", "<div class='plots'>", *(img(p) for p in plots.values()), "</div>"]
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>" + html.escape(title) + "</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:4px 8px;"
        "text-align:left;font-size:14px}th{background:#f0f0f0}.note{background:#fff8e1;padding:.6em;"
        "border-left:4px solid #f0b400}.plots img{max-width:48%;margin:4px}</style></head><body>"
        + "\n".join(body)
        + "</body></html>"
    )
    atomic_write_bytes(out / "report.html", page.encode("utf-8"))

    payload = {
        "context": {k: str(v) for k, v in ctx.items()},
        "summary": result.summary(),
        "side_gap": result.side_gap,
        "worst": [asdict(w) for w in result.worst],
        "swap_counts": result.swap_counts,
        "fairness": None
        if fairness is None
        else {
            "k": fairness.k,
            "topk_share": {str(g): v for g, v in fairness.topk_share.items()},
            "pool_share": {str(g): v for g, v in fairness.pool_share.items()},
            "exposure": {str(g): v for g, v in fairness.exposure.items()},
            "summary": {str(k): v for k, v in fairness.summary().items()},
        },
    }
    atomic_write_bytes(out / "audit.json", json.dumps(payload, indent=2, default=str).encode("utf-8"))
    return {"markdown": out / "report.md", "html": out / "report.html", "json": out / "audit.json", **plots}


__all__ = [
    "DISCLAIMER",
    "plot_group_share",
    "plot_rank_scatter",
    "plot_shift_hist",
    "plot_tradeoff",
    "write_audit_report",
]
