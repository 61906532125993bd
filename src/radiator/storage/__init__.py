"""Persistence: the state database and the telemetry store."""
