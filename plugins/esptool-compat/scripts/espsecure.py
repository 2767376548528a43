#!python
"""``espsecure.py`` run by path: forwards to ``esptk secure`` (the folder is left off sys.path first)."""
import os
import sys

sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
from esptool.forward import espsecure  # noqa: E402

espsecure()
