"""The one place the version number lives (CMake and the wheel read it from here)."""

__version__ = "0.1.0"
