"""The only ARI adapter: ``client`` (REST), ``events`` (events WebSocket with reconnect), ``models``
(generated from Asterisk's api-docs by ``codegen``), ``errors`` (the error tree)."""
