"""Batch import and export of ledgers (台账): the Excel and CSV files community offices keep.

``sheets`` reads and writes files (encodings, workbooks, JSON), ``columns`` maps headers to fields
through the alias table in ``data/``, ``importing`` turns rows into records in one transaction,
``exporting`` writes records back in the same shape. Nothing here prints: the command layer does.
"""

from __future__ import annotations

from gridtool.ledger.exporting import FORMATS, export_file, export_records
from gridtool.ledger.importing import ON_EXISTING, ImportReport, RowIssue, import_file, write_rejects
from gridtool.ledger.sheets import LedgerError

__all__ = [
    "FORMATS",
    "ON_EXISTING",
    "ImportReport",
    "LedgerError",
    "RowIssue",
    "export_file",
    "export_records",
    "import_file",
    "write_rejects",
]
