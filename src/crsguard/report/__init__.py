"""crsguard.report"""
