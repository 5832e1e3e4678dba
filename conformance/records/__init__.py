"""Records, one module per kind (``primitives.py``, ``layers.py``, ``losses.py``, ...); each
defines ``RECORDS`` and optionally ``expected_components()`` (see :mod:`conformance.registry`)."""
