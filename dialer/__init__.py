"""Ringline predictive dialer: campaigns, contact queue, pacing, AMD (not built yet)."""
