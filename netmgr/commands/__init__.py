"""CLI command groups. Each module exposes ``register(app)`` and calls services, nothing more."""
