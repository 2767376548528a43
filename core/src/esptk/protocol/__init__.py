"""Pure encoding and decoding of the ROM-loader protocol (no I/O here)."""
