"""Dialplan side of Ringline: the local Asterisk sandbox and its rendered configs, and the FastAGI server."""
