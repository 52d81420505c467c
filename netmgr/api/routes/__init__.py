"""One router module per domain area; ``ROUTERS`` lists them in the order they are mounted."""
