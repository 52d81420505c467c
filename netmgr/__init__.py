"""netmgr: network management for Indonesian regency and city governments.

The shared core: settings, database, inventory, auth, API, admin UI, reports and CLI.
"""

__version__ = "0.1.0"
