"""crsguard.timeline"""
