"""Derived values the rules read (management.md §2 "Derived values" and §1.5 operational definitions).

Each fact is computed from the patient state and the protocol settings. A fact is one of three things:
a value; *absent* (the thing does not exist, e.g. no tocilizumab was ever given: every comparison is false);
or *missing* (an input needed to know it was not supplied: the condition is unknown and the input is named).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from crsguard.management.protocol import SeizureProphylaxisPolicy, Settings
from crsguard.management.state import DoseGiven, PatientState
from crsguard.management.vocabulary import (
    ANTI_IL6,
    CORTICOSTEROIDS,
    CrsStatus,
    DosePurpose,
    Drug,
    ResponseState,
)
from crsguard.model.toxicity import TherapyClass

FEVER_C = 38.0  # management.md §0.2: fever = temperature ≥ 38.0 °C
FN_SINGLE_READING_C = 38.3  # §8.1 item 5
FN_SUSTAINED_MIN = 60.0  # §8.1 item 5: fever_run_min ≥ 60
FN_ANC_BELOW = 0.5  # 10⁹/L
CAR_T_RISK_WINDOW_LAST_DAY = 14  # §7.3 [P]: study_day ≤ 14
TCE_RISK_WINDOW_H = 72.0  # §7.3 [P]: t_since_last_bsab_dose_h ≤ 72
REFRACTORY_AFTER_H = 24.0  # §1.5: not improving 24 h or more after the regimen was fully started
HIGH_DOSE_MP_MG = 500.0  # §1.5 "Prolonged corticosteroid": any methylprednisolone dose ≥ 500 mg
HIGH_DOSE_DEX_MG = 20.0  # §5.2 ICANS-R: dexamethasone 20 mg every 6 h counts as high dose
ACETAMINOPHEN_FEVER_WINDOW_H = 8.0  # §3.5 BS-1 [P]: fever at an assessment ≤ 8 h after the dose
OPEN_STATUSES = {CrsStatus.ACTIVE, CrsStatus.RESOLVING, CrsStatus.REWORSENING_AFTER_THERAPY}
NOT_IMPROVING = {ResponseState.NOT_IMPROVING, ResponseState.WORSENING}

FactValue = float | bool | str | list[str] | None


@dataclass(frozen=True)
class Fact:
    """A derived value; `missing` names the inputs that were needed but not supplied."""

    value: FactValue = None
    missing: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        """True unless an input was missing."""
        return not self.missing


ABSENT = Fact(None)


def _missing(*fields: str) -> Fact:
    return Fact(None, fields)


def _bool(value: bool) -> Fact:
    return Fact(value)


class Facts:
    """Lazily computed facts for one state under one protocol's settings."""

    def __init__(self, state: PatientState, settings: Settings) -> None:
        self.state = state
        self.settings = settings
        self.doses: list[DoseGiven] = sorted(state.doses_given, key=lambda dose: dose.start)
        self._cache: dict[str, Fact] = {}

    def get(self, name: str) -> Fact:
        """The fact called `name` (a field of `protocol.Condition`)."""
        if name not in self._cache:
            compute: Callable[[], Fact] | None = getattr(self, f"fact_{name}", None)
            if compute is None:
                raise KeyError(f"no fact named {name!r}")
            self._cache[name] = compute()
        return self._cache[name]

    # ----------------------------------------------------------------------------------------- dose history

    def doses_of(self, drugs: frozenset[Drug] | set[Drug], since: datetime | None = None) -> list[DoseGiven]:
        """Recorded doses of these drugs, oldest first, optionally only those starting at or after `since`."""
        return [dose for dose in self.doses if dose.drug in drugs and (since is None or dose.start >= since)]

    def doses_in_window(self, drugs: frozenset[Drug] | set[Drug], hours: float) -> list[DoseGiven]:
        """Doses started in the rolling window (now − hours, now] (management.md §0.2)."""
        lower = self.state.evaluated_at - timedelta(hours=hours)
        return [dose for dose in self.doses_of(drugs) if lower < dose.start <= self.state.evaluated_at]

    def toci_times(self) -> list[datetime]:
        """Every tocilizumab start, therapeutic and prophylactic (A13: all count in the limits)."""
        return [dose.start for dose in self.doses_of({Drug.TOCILIZUMAB})]

    def episode_doses(self, drugs: frozenset[Drug] | set[Drug]) -> list[DoseGiven] | None:
        """Doses since the CRS onset of this episode; None when the onset is unknown but doses exist."""
        onset = self.state.crs.onset
        if onset is None:
            return [] if not self.doses_of(drugs) else None
        return self.doses_of(drugs, since=onset)

    def toci_episode_count(self) -> int | None:
        """`toci_episode`: tocilizumab doses in the open CRS episode (management.md §2)."""
        doses = self.episode_doses({Drug.TOCILIZUMAB})
        return None if doses is None else len(doses)

    def toci_course_count(self) -> int | None:
        """`toci_course`: CAR-T per course (all recorded doses); bispecific per CRS episode (A1)."""
        if self.settings.tocilizumab.course_scope == "episode":
            return self.toci_episode_count()
        return len(self.toci_times())

    def _treatment_steroids_since(self, since: datetime | None, minimum: dict[Drug, float]) -> list[DoseGiven]:
        return [
            dose
            for dose in self.doses_of(set(minimum), since=since)
            if dose.purpose is DosePurpose.TREATMENT and dose.dose_mg >= minimum[dose.drug]
        ]

    def _hours_since_first(self, doses: Sequence[DoseGiven]) -> float | None:
        return self.state.hours_since(doses[0].start) if doses else None

    # ---------------------------------------------------------------------------------------------- grades

    def fact_crs_grade(self) -> Fact:
        return Fact(float(self.state.crs.grade))

    def fact_icans_grade(self) -> Fact:
        return _missing("icans") if self.state.icans is None else Fact(float(self.state.icans.grade))

    def fact_iechs_grade(self) -> Fact:
        iechs = self.state.iechs
        if iechs is None or iechs.grade is None:
            return _missing("iechs.grade")
        return Fact(float(iechs.grade))

    def fact_therapy_class(self) -> Fact:
        therapy_class = self.state.resolved_therapy_class
        return ABSENT if therapy_class is None else Fact(therapy_class.value)

    def fact_high_risk_patient(self) -> Fact:
        return _bool(self.state.flags.high_risk)

    def fact_high_risk_product(self) -> Fact:
        return _bool(self.state.product in self.settings.high_risk_products)

    # ---------------------------------------------------------------------------------- CRS physiology

    def fact_fever(self) -> Fact:
        temperature = self.state.temperature_c
        return _missing("temperature_c") if temperature is None else _bool(temperature >= FEVER_C)

    def fact_hypotension_present(self) -> Fact:
        value = self.state.crs.hypotension_present
        return _missing("crs.hypotension_present") if value is None else _bool(value)

    def fact_oxy_tier(self) -> Fact:
        value = self.state.crs.oxy_tier
        return _missing("crs.oxy_tier") if value is None else Fact(float(value))

    def fact_fluid_boluses_for_bp(self) -> Fact:
        value = self.state.crs.fluid_boluses_for_bp
        return _missing("crs.fluid_boluses_for_bp") if value is None else Fact(float(value))

    # ------------------------------------------------------------------------------------------- clocks

    def fact_t_since_crs_onset_h(self) -> Fact:
        hours = self.state.hours_since(self.state.crs.onset)
        return _missing("crs.onset") if hours is None else Fact(hours)

    def fact_t_at_crs_grade_h(self) -> Fact:
        hours = self.state.hours_since(self.state.crs.grade_since)
        return _missing("crs.grade_since") if hours is None else Fact(hours)

    def fact_t_onset_after_infusion_h(self) -> Fact:
        onset = self.state.crs.onset
        if onset is None:
            return _missing("crs.onset")
        return Fact((onset - self.state.infusion_datetime).total_seconds() / 3600.0)

    def fact_t_since_first_antiil6_h(self) -> Fact:
        doses = self.episode_doses(ANTI_IL6)
        return _missing("crs.onset") if doses is None else Fact(self._hours_since_first(doses))

    def fact_t_since_first_toci_h(self) -> Fact:
        doses = self.episode_doses({Drug.TOCILIZUMAB})
        return _missing("crs.onset") if doses is None else Fact(self._hours_since_first(doses))

    def fact_toci_given_in_episode(self) -> Fact:
        count = self.toci_episode_count()
        return _missing("crs.onset") if count is None else _bool(count > 0)

    def fact_anti_il6_given(self) -> Fact:
        doses = self.episode_doses(ANTI_IL6)
        return _missing("crs.onset") if doses is None else _bool(bool(doses))

    def fact_study_day(self) -> Fact:
        """Calendar days since t0, day 0 = infusion day (UTC calendar; interop §0.3)."""
        return Fact(float((self.state.evaluated_at.date() - self.state.infusion_datetime.date()).days))

    # ------------------------------------------------------------------------------------ response state

    def fact_crs_response(self) -> Fact:
        """response_state (§1.5); absent at grade 0 outside an episode (there is nothing to respond)."""
        crs = self.state.crs
        if crs.response is not None:
            return Fact(crs.response.value)
        no_episode = crs.grade == 0 and crs.onset is None and crs.status in {None, CrsStatus.NEVER, CrsStatus.RESOLVED}
        return ABSENT if no_episode else _missing("crs.response")

    def fact_icans_response(self) -> Fact:
        icans = self.state.icans
        if icans is None:
            return _missing("icans")
        if icans.response is not None:
            return Fact(icans.response.value)
        return ABSENT if icans.grade == 0 and icans.onset is None else _missing("icans.response")

    def _refractory(self, started_hours: float | None, response: ResponseState | None, field: str) -> Fact:
        """§1.5: regimen fully started and (worsening, or not improving ≥ 24 h after the start)."""
        if started_hours is None:
            return _bool(False)
        if response is None:
            return _missing(field)
        worsening = response is ResponseState.WORSENING
        return _bool(worsening or (response is ResponseState.NOT_IMPROVING and started_hours >= REFRACTORY_AFTER_H))

    def grade3_regimen_started_h(self) -> float | None:
        """Hours since the grade-3 regimen was fully started (§1.5 "Fully started"), None if not started.

        The later of the first tocilizumab and the first dexamethasone of the episode; tocilizumab is not
        awaited when it is unavailable or at its course maximum. The protocol reads `crs_refractory` only on
        the grade-3 node (E27, CRS-3b-alt), whichever grade led there (CRS-2e manages grade 2 as grade 3).
        """
        dex = self._treatment_steroids_since(self.state.crs.onset, {Drug.DEXAMETHASONE: 0.0})
        toci = self.episode_doses({Drug.TOCILIZUMAB}) or []
        toci_optional = self.state.flags.toci_unavailable or bool(self.get("toci_course_max_reached").value)
        if not dex or (not toci and not toci_optional):
            return None
        starts = [dex[0].start] + ([toci[0].start] if toci else [])
        return self.state.hours_since(max(starts))

    def _high_dose_mp(self, since: datetime | None) -> list[DoseGiven]:
        return self._treatment_steroids_since(since, {Drug.METHYLPREDNISOLONE: HIGH_DOSE_MP_MG})

    def fact_crs_refractory(self) -> Fact:
        if self.state.crs.onset is None:
            return _missing("crs.onset")
        return self._refractory(self.grade3_regimen_started_h(), self.state.crs.response, "crs.response")

    def fact_crs_refractory_on_high_dose_mp(self) -> Fact:
        if self.state.crs.onset is None:
            return _missing("crs.onset")
        started = self._hours_since_first(self._high_dose_mp(self.state.crs.onset))
        return self._refractory(started, self.state.crs.response, "crs.response")

    def _icans_since(self) -> datetime | None:
        icans = self.state.icans
        return None if icans is None else (icans.onset or icans.grade_since)

    def fact_icans_refractory(self) -> Fact:
        """Refractory on the grade-3 regimen: any treatment corticosteroid since ICANS onset (§1.5)."""
        icans = self.state.icans
        if icans is None or self._icans_since() is None:
            return _missing("icans.onset")
        steroids = self._treatment_steroids_since(self._icans_since(), dict.fromkeys(CORTICOSTEROIDS, 0.0))
        return self._refractory(self._hours_since_first(steroids), icans.response, "icans.response")

    def fact_icans_refractory_on_high_dose(self) -> Fact:
        """Refractory on methylprednisolone ≥ 500 mg or dexamethasone ≥ 20 mg since ICANS onset (§5.2)."""
        icans = self.state.icans
        if icans is None or self._icans_since() is None:
            return _missing("icans.onset")
        high = {Drug.METHYLPREDNISOLONE: HIGH_DOSE_MP_MG, Drug.DEXAMETHASONE: HIGH_DOSE_DEX_MG}
        steroids = self._treatment_steroids_since(self._icans_since(), high)
        return self._refractory(self._hours_since_first(steroids), icans.response, "icans.response")

    # ------------------------------------------------------------------------------------ tocilizumab

    def fact_toci_course_max_reached(self) -> Fact:
        count = self.toci_course_count()
        if count is None:
            return _missing("crs.onset")
        return _bool(count >= self.settings.tocilizumab.max_per_course)

    def fact_toci_unavailable(self) -> Fact:
        return _bool(self.state.flags.toci_unavailable)

    # --------------------------------------------------------------------------------------- episode

    def fact_crs_attributed(self) -> Fact:
        """crs_attributed; default true inside the product's risk window, asked outside it (§3.2 CRS-0)."""
        if self.state.crs.attributed is not None:
            return _bool(self.state.crs.attributed)
        return _bool(True) if self.risk_window_active() else _missing("crs.attributed")

    def risk_window_active(self) -> bool:
        """§7.3 [P]: CAR-T study day ≤ 14; bispecific ≤ 72 h after the last dose."""
        if self.state.resolved_therapy_class is TherapyClass.tce:
            last_dose = self.state.bsab_last_dose_time or self.state.infusion_datetime
            return (self.state.hours_since(last_dose) or 0.0) <= TCE_RISK_WINDOW_H
        study_day = self.get("study_day").value
        return isinstance(study_day, float) and study_day <= CAR_T_RISK_WINDOW_LAST_DAY

    def fact_crs_episode_open(self) -> Fact:
        status = self.state.crs.status
        if status is not None:
            return _bool(status in OPEN_STATUSES)
        return _bool(True) if self.state.crs.grade >= 1 else _missing("crs.status")

    def fact_episode_closed(self) -> Fact:
        status = self.state.crs.status
        if status is not None:
            return _bool(status is CrsStatus.RESOLVED)
        return _bool(False) if self.state.crs.grade >= 1 else _missing("crs.status")

    def fact_crs_status(self) -> Fact:
        status = self.state.crs.status
        return _missing("crs.status") if status is None else Fact(status.value)

    # ------------------------------------------------------------------------------------ fever bundle

    def fact_fb1_trigger(self) -> Fact:
        """§8.1: a fever, or deterioration when fever may be hidden (masked, premedication, prophylaxis)."""
        fever = self.get("fever")
        if fever.value is True:
            return fever
        hidden = bool(self.state.crs.fever_masked) or self.state.crs.premedicated
        deteriorating = self.state.crs.hypotension_present is True or (self.state.crs.oxy_tier or 0) >= 1
        if hidden and deteriorating:
            return _bool(True)
        return fever if not fever.known else _bool(False)

    def fever_run_min(self) -> float:
        """§8.1 item 5 [P]: longest run of consecutive readings ≥ 38.0 °C, first to last, in minutes."""
        readings = sorted(self.state.body_temperature, key=lambda reading: reading.time)
        longest = 0.0
        run_start: datetime | None = None
        for reading in readings:
            if reading.temperature_c >= FEVER_C:
                run_start = run_start or reading.time
                longest = max(longest, (reading.time - run_start).total_seconds() / 60.0)
            else:
                run_start = None
        return longest

    def fact_fn_pathway_trigger(self) -> Fact:
        """§8.1 item 5: (ANC < 0.5 or expected) and (a reading ≥ 38.3 °C or ≥ 38.0 °C sustained ≥ 60 min)."""
        if self.state.flags.neutropenic_fever:
            return _bool(True)
        readings = [reading.temperature_c for reading in self.state.body_temperature]
        if self.state.temperature_c is not None:
            readings.append(self.state.temperature_c)  # the window maximum is itself one reading
        fever_part = (bool(readings) and max(readings) >= FN_SINGLE_READING_C) or (
            self.fever_run_min() >= FN_SUSTAINED_MIN
        )
        if not readings:
            return _missing("temperature_c")
        if not fever_part:
            return _bool(False)
        if self.state.flags.anc_expected_below_0_5:
            return _bool(True)
        anc = self.state.labs.anc
        return _missing("labs.anc") if anc is None else _bool(anc < FN_ANC_BELOW)

    def fact_fever_within_8h_of_acetaminophen(self) -> Fact:
        fever = self.get("fever")
        if not fever.known or fever.value is False:
            return fever
        doses = self.doses_in_window({Drug.ACETAMINOPHEN}, ACETAMINOPHEN_FEVER_WINDOW_H)
        return _bool(bool(doses))

    # ------------------------------------------------------------------------------------------ IEC-HS

    def _iechs_flag(self, name: str) -> Fact:
        iechs = self.state.iechs
        if iechs is None:
            return _missing("iechs")
        value = getattr(iechs, name)
        return _missing(f"iechs.{name}") if value is None else _bool(bool(value))

    def fact_iechs_screen_positive(self) -> Fact:
        return self._iechs_flag("screen_positive")

    def fact_iechs_confirmed(self) -> Fact:
        return self._iechs_flag("clinician_confirmed")

    def fact_iechs_no_response_48h(self) -> Fact:
        return self._iechs_flag("no_response_48h")

    def fact_iechs_compromise(self) -> Fact:
        return self._iechs_flag("haemodynamic_or_respiratory_compromise")

    # ------------------------------------------------------------------------------------ neuro, other

    def fact_seizure_or_oedema(self) -> Fact:
        icans = self.state.icans
        return _missing("icans") if icans is None else _bool(icans.seizure or icans.cerebral_oedema)

    def fact_fibrinogen(self) -> Fact:
        value = self.state.labs.fibrinogen
        return _missing("labs.fibrinogen") if value is None else Fact(value)

    def fact_clinically_significant_bleeding(self) -> Fact:
        value = self.state.labs.clinically_significant_bleeding
        return _missing("labs.clinically_significant_bleeding") if value is None else _bool(value)

    def fact_bleeding_status_known(self) -> Fact:
        return _bool(self.state.labs.clinically_significant_bleeding is not None)

    def fact_corticosteroid_active(self) -> Fact:
        doses = self.doses_in_window(CORTICOSTEROIDS, 24.0)
        return _bool(any(dose.purpose is DosePurpose.TREATMENT for dose in doses))

    def fact_seizure_prophylaxis_policy_applies(self) -> Fact:
        policy = self.settings.seizure_prophylaxis
        if policy is SeizureProphylaxisPolicy.HIGH_RISK_PRODUCTS:
            return _bool(self.state.product in self.settings.high_risk_products)
        if policy is SeizureProphylaxisPolicy.ALL_PRODUCTS:
            return _bool(self.state.resolved_therapy_class is TherapyClass.car_t)
        return _bool(False)

    def fact_on_levetiracetam(self) -> Fact:
        return _bool(bool(self.doses_in_window({Drug.LEVETIRACETAM}, 24.0)))

    def fact_discharge_review(self) -> Fact:
        return _bool(self.state.discharge_review)
