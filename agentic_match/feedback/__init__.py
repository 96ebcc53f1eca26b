"""Recruiter feedback: picks stored as preference pairs, and learning from them.

* :mod:`~agentic_match.feedback.store` - :class:`FeedbackStore`, the SQLite store the API and
  the feedback graph write picks to (one transaction per request, stored once).
* :mod:`~agentic_match.feedback.config` - :class:`FeedbackConfig`, every setting of the loop.
* :mod:`~agentic_match.feedback.registry` - :class:`ModelRegistry`, the model in use and the
  update history.
* :mod:`~agentic_match.feedback.update` - :func:`rankpo_update`, the guarded RankPO update.
* :mod:`~agentic_match.feedback.learner` - :class:`FeedbackLearner`, updates on a background
  thread of the HTTP service.
"""

from agentic_match.feedback.config import FeedbackConfig
from agentic_match.feedback.registry import ModelRegistry
from agentic_match.feedback.store import FeedbackStore
from agentic_match.feedback.update import default_tasks, rankpo_update, score_model

__all__ = ["FeedbackConfig", "FeedbackStore", "ModelRegistry", "default_tasks", "rankpo_update", "score_model"]
