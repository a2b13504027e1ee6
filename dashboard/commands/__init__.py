"""The command line's handlers: one module per ``partnership-dashboard`` command family.

A handler reads the parsed options, calls the domain modules (which return
values or raise typed errors), writes the text/JSON/CSV the user sees and
chooses the exit code. Nothing outside this package and :mod:`dashboard.cli`
prints for the command line or picks an exit code (see ``docs/architecture.md``).

=================  ===========================================================
module             commands
=================  ===========================================================
``serve``          ``demo``, ``serve``
``load``           ``load DIR``, ``check DIR``
``check_db``       ``check --db URL``
``evaluate``       ``evaluate``
``export``         ``export chart|table|report``
``metrics``        ``metrics``
``sample``         ``sample``
``access``         ``audit verify|export``, ``reprocess``, ``migrate``; the access log of every command
=================  ===========================================================
"""
