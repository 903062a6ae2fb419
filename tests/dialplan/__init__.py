"""Tests of the local Asterisk sandbox (dialplan.asterisk) and of the SIP test peer (tests.peers)."""
