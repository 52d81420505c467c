"""Edge collectors: a small poller at a remote site that keeps working while its link to the centre is down.

Centre side (``centre``, ``api``): registers edges, hands each its site's inventory, takes what it forwards and
says when a site's link is down. Edge side (``agent``): a local copy of the inventory in SQLite, the same
poller as the centre's, metrics through a disk spool to the centre, usage and status forwarded when the link
allows. ``protocol`` is the wire format both sides share. docs/deploy.md ("Edge collectors") tells the story.
"""
