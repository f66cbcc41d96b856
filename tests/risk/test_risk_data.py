"""Structural checks of the risk data files: every score explains itself and cites the spec."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crsguard.risk.definitions import (
    HematotoxVariable,
    hematotox_table,
    score_catalogue,
    seed_factor_checklist,
)
from crsguard.risk.formulas import formulas, input_columns


def test_every_score_cites_the_spec_and_a_paper() -> None:
    for score in score_catalogue().scores:
        assert score.spec_section.startswith("risk §1."), score.name
        assert score.citation and score.predicts and score.validation_population and score.timing


def test_unconfirmed_scores_require_confirmation() -> None:
    """Spec README: results depending on [U]/[A] content must carry the confirmation text."""
    for score in score_catalogue().scores:
        assert score.requires_confirmation == (score.evidence in {"U", "A"}), score.name


def test_only_scores_with_validated_cutoffs_have_categories() -> None:
    """risk §1.9: EASIX (> 4.67 pre-LD) and CAR-HEMATOTOX (>= 2) have categories; s-/m-EASIX none."""
    with_cutoff = {s.name for s in score_catalogue().scores if s.cutoff is not None}
    assert with_cutoff == {"easix", "car_hematotox"}


def test_blocked_and_research_scores_are_listed_with_reasons() -> None:
    names = {u.name for u in score_catalogue().unavailable}
    assert names == {"easix_f", "easix_fc", "hay_2017", "teachey_2016"}


def test_every_formula_has_a_catalogue_entry_and_inputs_are_quantities() -> None:
    assert list(formulas()) == [s.name for s in score_catalogue().scores]
    assert set(input_columns()) == {"ldh", "creatinine", "platelets", "crp", "ferritin", "anc", "hemoglobin"}


def test_hematotox_table_matches_spec_shape() -> None:
    table = hematotox_table()
    assert table.max_points == 7 and table.high_risk_from_points == 2
    assert table.cut_points("platelets") == (75.0, 175.0)
    assert table.cut_points("ferritin") == (650.0, 2000.0)
    assert table.cut_points("anc") == (1.2,)
    assert table.cut_points("hemoglobin") == (9.0,)
    assert table.cut_points("crp") == (30.0,)
    assert table.default_convention == "middle_band"


def test_overlapping_bands_are_refused_at_load() -> None:
    with pytest.raises(ValidationError, match="falls in 2 bands"):
        HematotoxVariable.model_validate(
            {
                "quantity": "anc",
                "unit": "10*9/L",
                "bands": [{"points": 0, "at_or_above": 1.2}, {"points": 1, "at_or_below": 1.2}],
            }
        )


def test_gap_between_bands_is_refused_at_load() -> None:
    with pytest.raises(ValidationError, match="falls in 0 bands"):
        HematotoxVariable.model_validate(
            {
                "quantity": "anc",
                "unit": "10*9/L",
                "bands": [{"points": 0, "above": 1.2}, {"points": 1, "below": 1.2}],
            }
        )


def test_seed_factors_are_the_nine_of_the_seeds() -> None:
    assert len(seed_factor_checklist().factors) == 9
