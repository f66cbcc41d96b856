"""crsguard.service"""
