"""esptk transport plugin."""

__version__ = "0.1.0"
