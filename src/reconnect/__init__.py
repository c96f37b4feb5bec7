"""Reconnect: rebuild connection after a betrayal, at the pace of the more activated partner."""

__version__ = "0.1.0"
