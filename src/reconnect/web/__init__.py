"""The web layer: thin handlers that authenticate, parse, call and render."""
