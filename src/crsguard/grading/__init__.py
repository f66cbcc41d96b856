"""crsguard.grading"""
