"""``python -m gridtool.commands``: the same as the ``gridtool`` command."""

from . import main

main()
