"""HTTP routers, one per domain; each is a thin adapter over one service."""
