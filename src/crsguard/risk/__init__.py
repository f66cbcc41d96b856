"""crsguard.risk"""
