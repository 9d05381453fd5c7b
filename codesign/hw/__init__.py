"""The hardware side of co-design: a subnet as a pimsim workload, its PIM placement, and
the builder pimsim's ``--spec`` option finds through an entry point."""
