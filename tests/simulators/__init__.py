"""Stateful SSH simulators of network devices (MikroTik RouterOS, Cisco IOS) that netmiko drives like the real thing.

Start one with ``python -m tests.simulators.sshsim`` or from a test with :func:`tests.simulators.sshsim.run_in_thread`.
See docs/dev/simulators.md.
"""
