"""Real servers for the tests: reuse one that is running, otherwise start a private one on a free port."""
