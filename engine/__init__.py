"""Ringline engine: ARI client, call state machine, inbound routing, CDR."""
