"""The benchmark directory layout and the packaged demo corpus.

A benchmark directory holds ``resumes.jsonl``, ``jobs.jsonl``, ``splits.json``,
``labels/*.jsonl`` (or ``labels.jsonl``), ``qrels/*.json`` and ``interactions.jsonl``;
:func:`load_benchmark` loads and cross-checks all of it. :func:`load_demo` loads the
synthetic demo corpus shipped in ``agentic_match/data/demo``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from importlib import resources
from pathlib import Path
from typing import Any

from agentic_match.data.io import check_pairs, load_corpus, read_documents, read_interactions, read_labels
from agentic_match.data.readers import read_json
from agentic_match.data.report import LoadReport, OnError, PathLike, check_on_error, finish
from agentic_match.data.schema import Corpus, Document, Interaction, Label, Qrels
from agentic_match.errors import DataError, Problem


def _check_splits(
    path: str,
    value: Any,
    ids: Mapping[str, Mapping[str, Any]],
    report: LoadReport,
) -> dict[str, dict[str, list[str]]]:
    """Validate ``{"resumes": {split: [ids]}, "jobs": {...}}``: known ids, one split each."""
    if not isinstance(value, dict):
        report.add(path, None, None, 'expected {"resumes": {split: [ids]}, "jobs": {...}}')
        return {}
    out: dict[str, dict[str, list[str]]] = {}
    for key in ("resumes", "jobs"):
        per = value.get(key)
        if not isinstance(per, dict):
            report.add(path, None, key, "missing, or not an object of split -> list of ids")
            continue
        seen: dict[str, str] = {}
        out[key] = {}
        for split, members in per.items():
            if not isinstance(members, list):
                report.add(path, None, f"{key}.{split}", "expected a list of ids")
                continue
            good = []
            for i, ref in enumerate(members):
                where = f"{key}.{split}[{i}]"
                if not isinstance(ref, str) or ref not in ids[key]:
                    report.add(path, None, where, f"unknown {key[:-1]} id {ref!r}")
                elif ref in seen:
                    report.add(path, None, where, f"{ref!r} is also in split {seen[ref]!r}")
                else:
                    seen[ref] = split
                    good.append(ref)
            out[key][split] = good
        missing = [i for i in ids[key] if i not in seen]
        if missing:
            report.add(
                path,
                None,
                key,
                f"{len(missing)} {key} in no split, e.g. {', '.join(map(repr, missing[:3]))}",
            )
    return out


def _check_qrels(
    path: str,
    task: str,
    value: Any,
    resumes: Mapping[str, Any],
    jobs: Mapping[str, Any],
    splits: Mapping[str, Mapping[str, list[str]]],
    report: LoadReport,
) -> Qrels:
    """Validate ``{query_id: {doc_id: grade}}`` for a ``<split>_rank_<resume|job>`` task."""
    split, _, target = task.partition("_rank_")
    if target not in ("resume", "job"):
        report.add(path, None, None, "qrels file name must be <split>_rank_resume|job.json")
        return {}
    if not isinstance(value, dict):
        report.add(path, None, None, "expected {query_id: {doc_id: grade}}")
        return {}
    # rank_resume: job queries over resumes; rank_job: resume queries over jobs.
    qkey, dkey = ("jobs", "resumes") if target == "resume" else ("resumes", "jobs")
    known = {"resumes": resumes, "jobs": jobs}
    in_split = {k: set(splits.get(k, {}).get(split, ())) for k in ("resumes", "jobs")} if splits else {}
    out: Qrels = {}
    for qid, docs in value.items():
        where = str(qid)
        if qid not in known[qkey]:
            report.add(path, None, where, f"unknown {qkey[:-1]} id {qid!r}")
            continue
        if in_split and qid not in in_split[qkey]:
            report.add(path, None, where, f"query {qid!r} is not in split {split!r}")
            continue
        if not isinstance(docs, dict):
            report.add(path, None, where, "expected {doc_id: grade}")
            continue
        graded: dict[str, int] = {}
        for did, grade in docs.items():
            fwhere = f"{qid}.{did}"
            if did not in known[dkey]:
                report.add(path, None, fwhere, f"unknown {dkey[:-1]} id {did!r}")
            elif isinstance(grade, bool) or not isinstance(grade, int) or grade < 0:
                report.add(path, None, fwhere, f"grade must be a non-negative integer, got {grade!r}")
            elif in_split and did not in in_split[dkey]:
                report.add(path, None, fwhere, f"{did!r} is not in split {split!r}")
            else:
                graded[did] = grade
        out[qid] = graded
    return out


def load_benchmark(root: PathLike, *, on_error: OnError = "raise") -> Corpus:
    """Load a directory in the benchmark layout (``../shared/data/benchmark/v1``).

    Required: ``resumes.jsonl``, ``jobs.jsonl``. Optional: ``splits.json``, ``labels/<split>.jsonl``
    (or a flat ``labels.jsonl``), ``qrels/<split>_rank_<resume|job>.json``,
    ``interactions.jsonl``. ``corpus.labels`` are the train labels (all labels when there
    is no ``train`` file), ``corpus.label_splits`` holds every labels file by split, and
    ``corpus.qrels`` is keyed by the qrels file stem (``"test_rank_resume"``...).
    Everything is cross-checked: ids in splits, labels and qrels must exist, split labels
    and qrels must stay inside their split, and every document must be in one split.
    """
    check_on_error(on_error)
    base = Path(root)
    report = LoadReport()
    if not base.is_dir():
        raise DataError(Problem(str(base), None, None, "not a directory"))
    missing = [n for n in ("resumes.jsonl", "jobs.jsonl") if not (base / n).is_file()]
    if missing:
        raise DataError(Problem(str(base), None, None, f"missing {', '.join(missing)}"))

    _, rdocs = read_documents(base / "resumes.jsonl", "resume", report)
    _, jdocs = read_documents(base / "jobs.jsonl", "job", report)
    resumes = {d.id: d for _, d in rdocs}
    jobs = {d.id: d for _, d in jdocs}

    splits: dict[str, dict[str, list[str]]] = {}
    if (base / "splits.json").is_file():
        value = read_json(base / "splits.json", report)
        if value is not None:
            ids = {"resumes": resumes, "jobs": jobs}
            splits = _check_splits(str(base / "splits.json"), value, ids, report)

    label_splits: dict[str, list[Label]] = {}
    flat_labels: list[Label] = []
    if (base / "labels").is_dir():
        for path in sorted((base / "labels").glob("*.jsonl")):
            name, labs = read_labels(path, report)
            split = path.stem if path.stem in splits.get("resumes", {}) else None
            labs = check_pairs(name, labs, resumes, jobs, report, split, splits)
            label_splits[path.stem] = [x for _, x in labs]
    elif (base / "labels.jsonl").is_file():
        name, labs = read_labels(base / "labels.jsonl", report)
        flat_labels = [x for _, x in check_pairs(name, labs, resumes, jobs, report)]

    qrels: dict[str, Qrels] = {}
    if (base / "qrels").is_dir():
        for path in sorted((base / "qrels").glob("*.json")):
            value = read_json(path, report)
            if value is not None:
                qrels[path.stem] = _check_qrels(str(path), path.stem, value, resumes, jobs, splits, report)

    interactions: list[Interaction] = []
    if (base / "interactions.jsonl").is_file():
        name, inter = read_interactions(base / "interactions.jsonl", report)
        interactions = [x for _, x in check_pairs(name, inter, resumes, jobs, report)]

    finish(report, on_error, str(base))
    if label_splits:
        labels = label_splits.get("train") or [x for v in label_splits.values() for x in v]
    else:
        labels = flat_labels
    return Corpus(
        resumes=resumes,
        jobs=jobs,
        labels=list(labels),
        interactions=interactions,
        splits=splits,
        qrels=qrels,
        label_splits=label_splits,
        source=str(base),
        report=report,
    )


DEMO_FILES = ("resumes.jsonl", "jobs.jsonl", "labels.jsonl", "interactions.jsonl")


def demo_dir() -> Path:
    """The folder of the packaged demo corpus (a real path in a normal install)."""
    return Path(str(resources.files("agentic_match.data") / "demo"))


def load_demo() -> Corpus:
    """The packaged synthetic demo corpus (made up; see ``data/demo/README.md``).

    Besides documents, labels and interactions it derives what the demo files encode in
    metadata (never rendered): ``splits`` from ``metadata.split``, ``label_splits`` by the
    split of each labelled pair, and graded ``qrels`` (``"<split>_rank_resume"`` /
    ``"<split>_rank_job"``: 2 same family, 1 related family) for ``dev`` and ``test``.
    """
    base = resources.files("agentic_match.data") / "demo"
    with ExitStack() as stack:
        paths = [stack.enter_context(resources.as_file(base / n)) for n in DEMO_FILES]
        corpus = load_corpus(*paths)
    corpus.source = "agentic_match demo corpus (synthetic)"

    def split_of(doc: Document) -> str:
        return str(doc.metadata.get("split", "train"))

    for key, docs in (("resumes", corpus.resumes), ("jobs", corpus.jobs)):
        per: dict[str, list[str]] = {}
        for doc in docs.values():
            per.setdefault(split_of(doc), []).append(doc.id)
        corpus.splits[key] = per
    for lab in corpus.labels:
        s = split_of(corpus.resumes[lab.resume_id])
        corpus.label_splits.setdefault(s, []).append(lab)

    def grade(resume: Document, job: Document) -> int:
        rf, jf = resume.metadata.get("family"), job.metadata.get("family")
        if rf == jf:
            return 2
        return 1 if rf in job.metadata.get("related", ()) else 0

    for split in ("dev", "test"):
        res = [corpus.resumes[i] for i in corpus.splits["resumes"].get(split, [])]
        jbs = [corpus.jobs[i] for i in corpus.splits["jobs"].get(split, [])]
        by_job = {j.id: {r.id: g for r in res if (g := grade(r, j))} for j in jbs}
        by_res = {r.id: {j.id: g for j in jbs if (g := grade(r, j))} for r in res}
        corpus.qrels[f"{split}_rank_resume"] = {q: d for q, d in by_job.items() if d}
        corpus.qrels[f"{split}_rank_job"] = {q: d for q, d in by_res.items() if d}
    return corpus
