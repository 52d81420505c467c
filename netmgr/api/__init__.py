"""The HTTP API under ``/api/v1`` (JSON, OpenAPI at ``/api/docs``)."""
