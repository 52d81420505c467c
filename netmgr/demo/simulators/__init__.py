"""Stateful SSH simulators of network devices (MikroTik RouterOS, Cisco IOS) that netmiko drives like the real thing.

The demo starts them as processes (``python -m netmgr.demo.simulators.sshsim``); tests start them in a thread with
:func:`netmgr.demo.simulators.sshsim.run_in_thread`. See docs/dev/simulators.md.

They need asyncssh, which only the demo and the tests install (``./dev setup``): nothing else in netmgr imports this
package, so an installed netmgr without asyncssh runs everything but the demo's SSH devices.
"""
