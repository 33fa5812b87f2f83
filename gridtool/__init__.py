"""gridtool: the register and issue workflow of a community grid office.

This package is the library. It never imports click or textual and never prints: the command line
(``gridtool.commands``) and the dashboard (``gridtool.tui``) are thin front ends over it.
"""

__version__ = "0.1.0"
