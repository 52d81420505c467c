"""Cryptography for netmgr: secrets encrypted at rest, password hashing, tokens."""
