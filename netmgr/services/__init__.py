"""Business rules. Services take a Session and an Actor, never import a transport."""
