"""crsguard.io"""
