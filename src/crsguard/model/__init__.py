"""crsguard.model"""
