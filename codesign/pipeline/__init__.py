"""The reproduction pipeline: ``codesign reproduce``'s resumable stages (data, supernet,
search B, then per operating point search C, training from scratch and simulation) and the
report they end in.

- ``protocol``: the budgets, the stage names, the simulated batch, the published ratios;
- ``points``: the operating points (profile x batch) and their folders;
- ``run``: the run's arguments, the stage runner, the search problems;
- ``selection``: how C is picked from the co-search front and seeded from B;
- ``reproduce``: the shared stages and their resume rule; ``point_stages``: a point's;
- ``decompose``: the decomposition's rows (B, B_host, B+plan, C-arch, C, DLRM) and shares;
- ``breakdown``: energy by component and busy time by kernel class of a trace;
- ``tables``: the B / C tables and the summary rows;
- ``report``: Markdown tables and files, written atomically; ``plots``: the plots;
- ``report_md``: ``report.md`` and the printed summary.
"""
