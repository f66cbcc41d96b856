"""crsguard: decision support for cytokine release syndrome and related immune-effector-cell toxicities."""

__version__ = "0.1.0"

from crsguard.grading import GradeResult, grade, grade_all, grade_frame, grade_many
from crsguard.management import recommend

__all__ = ["GradeResult", "__version__", "grade", "grade_all", "grade_frame", "grade_many", "recommend"]
