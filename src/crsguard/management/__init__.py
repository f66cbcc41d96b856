"""Management decision support: protocols as data, recommendations by grade, dose calculators, flowchart.

Decision support — not an order (management.md §11.1). The engine reads grades from the grading modules
and never grades itself.
"""

from crsguard.management.engine import (
    ProtocolMismatchError,
    Recommendation,
    RecommendationReport,
    order_check,
    recommend,
)
from crsguard.management.protocol import Protocol, ProtocolError, load_protocol
from crsguard.management.safety import SafetyFinding
from crsguard.management.state import PatientState

__all__ = [
    "PatientState",
    "Protocol",
    "ProtocolError",
    "ProtocolMismatchError",
    "Recommendation",
    "RecommendationReport",
    "SafetyFinding",
    "load_protocol",
    "order_check",
    "recommend",
]
