"""Itaku: an assistant that helps Japanese companies keep contractors from leaking information."""

__version__ = "0.1.0"
