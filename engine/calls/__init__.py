"""Calls: the pure state machine (state.py), its inputs (events.py) and outputs (effects.py), the executor
that performs effects over ARI and PostgreSQL, the live-call store and recovery after reconnects/restarts."""
