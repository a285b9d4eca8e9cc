"""The ``callcoach`` command line; the entry point is ``callcoach.cli.main:main``.

``main`` is deliberately not re-exported here: the attribute would shadow the ``callcoach.cli.main``
module, and ``import callcoach.cli.main as m`` would then return the function.
"""
