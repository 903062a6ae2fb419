"""Composition root: the ringline command wires database, Asterisk, engine and web."""
