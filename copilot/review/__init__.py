"""Supervisor review: every suggestion and what the agent did with it, stats, CSV export, merges."""
