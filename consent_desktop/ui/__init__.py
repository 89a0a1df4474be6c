"""PySide6 widgets. No network, no card I/O: everything goes through the controller."""
