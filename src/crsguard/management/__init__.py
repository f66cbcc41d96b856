"""crsguard.management"""
