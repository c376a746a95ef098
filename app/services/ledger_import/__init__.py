"""The database half of legacy imports: parsed records (``importers``, which never touches the database)
compared with the base data and written through the services.

``matching`` (natural keys → existing rows, decisions), ``apply`` (new / changed / unchanged / conflict /
rejected, per record, through the person, household, organisation and tag services), ``writes`` (new
persons and households in bulk through ``app.bulk``, with their change-log entries), ``outcomes``
(per-record results and counts shared with ``services.imports`` and the pages) and ``flowback``
(higher levels' lists reconciled into alerts). ``services/imports.py`` wraps them in one transaction.
"""
