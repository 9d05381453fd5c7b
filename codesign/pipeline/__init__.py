"""The reproduction pipeline: ``codesign reproduce``'s resumable stages (data, supernet,
searches B and C, training from scratch, simulation) and the report they end in.

- ``protocol``: the budgets, the stage names, the simulated batch, the published ratios;
- ``selection``: how C is picked from the co-search front and seeded from B;
- ``reproduce``: the stages and their resume rule;
- ``report``: Markdown tables and plots, written atomically;
- ``report_md``: the tables of B, C and B_host and ``report.md``.
"""
