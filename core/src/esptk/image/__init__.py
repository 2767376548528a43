"""Firmware images: ELF reading, generic image helpers and merged flash files.

Nothing here is chip-specific: chip plugins build and read their own image layouts through the
``esptk_build_image`` / ``esptk_read_image`` hooks, using the helpers of this package. Submodules
are imported on demand so that the CLI starts fast.
"""
