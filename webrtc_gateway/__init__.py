"""Ringline WebRTC gateway: browser <-> aiortc <-> Asterisk ExternalMedia RTP (not built yet)."""
