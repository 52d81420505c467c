"""Process entry points: the only modules that build the app, Celery and the CLI at import time."""
