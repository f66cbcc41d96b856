"""crsguard.engines"""
