"""crsguard.simulate"""
