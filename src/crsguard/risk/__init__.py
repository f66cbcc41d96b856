"""Risk: validated pre-infusion scores, the seeds' risk-factor checklist, early-warning signals on a course.

Scalar functions take canonical values (interop.md §1.1); ``score_frame`` computes the same scores for a
cohort frame with the same Polars expressions. Spec: clinical/risk-and-epidemiology.md §1 and §3.
"""

from crsguard.risk.checklist import evaluate_checklist
from crsguard.risk.course_alerts import ALERT_SCHEMA, course_alerts
from crsguard.risk.early_warning import detect_signals, grade_escalations, warning_rules
from crsguard.risk.formulas import output_columns, score_expressions, score_frame
from crsguard.risk.inputs import BaselineInputs, RiskInputError, allowed_keys, parse_baseline
from crsguard.risk.odds import relative_odds, shifted_probability
from crsguard.risk.report import assess, build_report
from crsguard.risk.results import CONFIRMATION_TEXT, Checklist, RiskReport, ScoreResult
from crsguard.risk.scores import car_hematotox, compute_scores, easix, m_easix, s_easix
from crsguard.risk.warning_evaluation import WarningPerformance, lead_times, summarise

__all__ = [
    "ALERT_SCHEMA",
    "CONFIRMATION_TEXT",
    "BaselineInputs",
    "Checklist",
    "RiskInputError",
    "RiskReport",
    "ScoreResult",
    "WarningPerformance",
    "allowed_keys",
    "assess",
    "build_report",
    "car_hematotox",
    "compute_scores",
    "course_alerts",
    "detect_signals",
    "easix",
    "evaluate_checklist",
    "grade_escalations",
    "lead_times",
    "m_easix",
    "output_columns",
    "parse_baseline",
    "relative_odds",
    "s_easix",
    "score_expressions",
    "score_frame",
    "shifted_probability",
    "summarise",
    "warning_rules",
]
