"""Fairness: group metrics, counterfactual audits, PII redaction, mitigation and reports.

Typical use::

    from agentic_match.fairness import Lexicon, counterfactual_audit, write_audit_report
    from agentic_match.retrieval.encoder import BiEncoder

    result = counterfactual_audit(BiEncoder.load("all-minilm-l6-v2"), jobs, resumes)
    write_audit_report(result, "reports/audit")

Modules: :mod:`.metrics` (DP / EO / equalized odds, top-k share, exposure, NDKL),
:mod:`.lexicon` (editable swap lexicon), :mod:`.counterfactual` (the audit and the
``Scorer`` protocol), :mod:`.redact` (sensitive fields, e-mail / phone / URL / name
redaction, log filter), :mod:`.mitigation` (fairness loss, fair ConFit training) and
:mod:`.report` (Markdown / HTML). Names load lazily: torch is only imported for mitigation.
"""

from __future__ import annotations

from agentic_match.lazy import lazy_exports

_LAZY: dict[str, str] = {
    # metrics
    "DecisionFairness": "agentic_match.fairness.metrics",
    "RankingFairness": "agentic_match.fairness.metrics",
    "decision_fairness": "agentic_match.fairness.metrics",
    "demographic_parity_difference": "agentic_match.fairness.metrics",
    "equal_opportunity_difference": "agentic_match.fairness.metrics",
    "equalized_odds_difference": "agentic_match.fairness.metrics",
    "exposure_by_group": "agentic_match.fairness.metrics",
    "exposure_disparity": "agentic_match.fairness.metrics",
    "ndkl": "agentic_match.fairness.metrics",
    "ranking_fairness": "agentic_match.fairness.metrics",
    "topk_group_share": "agentic_match.fairness.metrics",
    # lexicon
    "Lexicon": "agentic_match.fairness.lexicon",
    # counterfactual
    "AuditConfig": "agentic_match.fairness.counterfactual",
    "AuditResult": "agentic_match.fairness.counterfactual",
    "CounterfactualConfig": "agentic_match.fairness.counterfactual",
    "Scorer": "agentic_match.fairness.counterfactual",
    "counterfactual_audit": "agentic_match.fairness.counterfactual",
    "inferred_groups": "agentic_match.fairness.counterfactual",
    "make_counterfactuals": "agentic_match.fairness.counterfactual",
    "metadata_groups": "agentic_match.fairness.counterfactual",
    # redaction
    "DEFAULT_SENSITIVE_FIELDS": "agentic_match.privacy",
    "RedactConfig": "agentic_match.privacy",
    "RedactingFilter": "agentic_match.privacy",
    "install_log_redaction": "agentic_match.privacy",
    "prompt_text": "agentic_match.privacy",
    "protected_render_config": "agentic_match.privacy",
    "redact": "agentic_match.privacy",
    # mitigation
    "FairConFitLoss": "agentic_match.fairness.mitigation",
    "FairTrainConfig": "agentic_match.fairness.mitigation",
    "FairnessLoss": "agentic_match.fairness.mitigation",
    "train_fair_confit": "agentic_match.fairness.mitigation",
    # report
    "write_audit_report": "agentic_match.fairness.report",
}


__getattr__, __all__ = lazy_exports(__name__, _LAZY)
