"""Ringline web layer: aiohttp health/status page now; REST, Socket.IO and dashboards later."""
