"""Pydantic schemas: ``<Thing>Create`` / ``<Thing>Update`` / ``<Thing>Read`` for every API shape."""
