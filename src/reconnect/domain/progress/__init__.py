"""The rules of the progress pages (principle P6), pure and typed.

``points`` holds the plain inputs the pages are built from, ``markers`` the three
markers of slow change, and ``policy`` their thresholds, read from the versioned
``policies/<version>.toml`` beside it.
"""
