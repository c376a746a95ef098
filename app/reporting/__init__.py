"""Reports: the projection engine (frames → evaluate → projections / rosters) fills a layout-level
``table.Report``; the writers (``xlsx``, ``flat``) render it like the department's official form."""
