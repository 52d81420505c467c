"""Captive portal and RADIUS AAA for citizens on the public hotspots.

Gateway redirect → portal page → login method → RADIUS (FreeRADIUS rest → AAA endpoints) → accounting.
"""
