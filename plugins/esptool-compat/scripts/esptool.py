#!python
"""``esptool.py`` run by path (as PlatformIO runs it): esptk's esptool-compatible entry point.

This file sits in the same folder as the ``esptool`` executables, which Python puts first on
sys.path when it runs one of them: if it is imported as the module ``esptool``, it hands over to
the real package of that name.
"""

import importlib
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]

if __name__ == "__main__":
    from esptool import _main as run

    run()
elif __name__ == "esptool":
    del sys.modules[__name__]
    sys.modules[__name__] = importlib.import_module(__name__)
