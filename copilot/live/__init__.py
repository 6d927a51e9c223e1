"""Live push to the agent sidebar over WebSocket (`WS /v1/ws`)."""
