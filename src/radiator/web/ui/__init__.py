"""The web UI: server-rendered pages and their static files."""
