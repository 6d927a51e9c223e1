"""Background work for a fleet: claims through the database, the `omnicopilot worker` process, and the
layouts refused at start (several processes on the embedded index)."""
