"""The conformance suite: proves a backend computes what the NumPy reference computes.

One registry of plain records (:mod:`conformance.registry`, records in ``conformance/records/``)
drives every check (:mod:`conformance.checks`); tolerances come from one module
(:mod:`conformance.tolerances`).  Run it with ``refkeras conformance --backend NAME``
(see ``conformance/README.md``).
"""

from conformance.registry import Case, ErrorModel, Record, all_records, missing_records

__all__ = ["Case", "ErrorModel", "Record", "all_records", "missing_records"]
