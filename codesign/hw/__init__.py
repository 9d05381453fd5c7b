"""The hardware side of co-design: a subnet as a pimsim workload, its PIM placement and
precision genes (what each host or PIM target runs), the genome operations of the
co-search, and the builder pimsim's ``--spec`` option finds through an entry point."""
