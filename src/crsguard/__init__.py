"""crsguard: decision support for cytokine release syndrome and related immune-effector-cell toxicities."""

__version__ = "0.1.0"
