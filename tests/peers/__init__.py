"""Real SIP peers for tests: a second Asterisk as phones and carrier (sip_peer), audio checks (audio)."""
