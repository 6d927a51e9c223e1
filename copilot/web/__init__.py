"""The web pages: agent sidebar and supervisor console, served as static files with a strict CSP."""
