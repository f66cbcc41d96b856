"""Grading systems: one definition per system, evaluated on one snapshot or a frame of millions."""

from crsguard.grading.api import grade, grade_all, grade_frame, grade_many
from crsguard.grading.result import GradeResult

__all__ = ["GradeResult", "grade", "grade_all", "grade_frame", "grade_many"]
