"""Neurotoxicity grading: ASTCT 2019 ICANS (ICE or CAPD) and CARTOX-10/CRES (other-toxicities.md §1-§2)."""
