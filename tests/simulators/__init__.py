"""Tests of the SSH device simulators, which live in :mod:`netmgr.demo.simulators` (the demo starts them too)."""
