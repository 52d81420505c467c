"""Provisioning: template-driven, reversible configuration jobs over SSH with netmiko.

Per device: back up → render → diff → (dry run stops) → push → verify → save → audit; roll back on failure.
"""
