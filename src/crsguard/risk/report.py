"""The whole pre-infusion risk report for one patient: scores, unavailable scores, seed-factor checklist."""

from __future__ import annotations

from crsguard.risk.checklist import evaluate_checklist
from crsguard.risk.definitions import score_catalogue
from crsguard.risk.formulas import TRANSFUSION_FLAG
from crsguard.risk.inputs import BaselineInputs, parse_baseline
from crsguard.risk.results import RiskReport, UnavailableScoreResult
from crsguard.risk.scores import compute_scores


def _report_warnings(baseline: BaselineInputs) -> list[str]:
    warnings = []
    if baseline.canonical("platelets") is not None and baseline.platelets_within_24h_of_transfusion is None:
        warnings.append(
            f"{TRANSFUSION_FLAG} not stated: the platelet count was used as given; scores using platelets "
            "are not computable if it was drawn within 24 h after a platelet transfusion (risk §1.1 rule 3)"
        )
    return warnings


def build_report(baseline: BaselineInputs, hematotox_convention: str | None = None) -> RiskReport:
    """Scores and checklist for validated inputs."""
    return RiskReport(
        patient_id=baseline.patient_id,
        scores=compute_scores(baseline, hematotox_convention),
        unavailable_scores=[UnavailableScoreResult(**u.model_dump()) for u in score_catalogue().unavailable],
        checklist=evaluate_checklist(baseline),
        inputs=dict(baseline.values),
        warnings=_report_warnings(baseline),
    )


def assess(raw: object, hematotox_convention: str | None = None) -> RiskReport:
    """Validate a patient's input object (closed schema) and build the report; raises RiskInputError."""
    return build_report(parse_baseline(raw), hematotox_convention)
