"""The command-line handlers of ``partnership-dashboard``, one module per command."""
