"""Re-exports of codesign.pipeline (reproduce, protocol, selection, report_md); to be removed with the layout move."""

from codesign.pipeline.protocol import PUBLISHED, REPRO_BUDGETS, STAGES, ReproBudget, read_timings
from codesign.pipeline.report_md import summary_text, write_report
from codesign.pipeline.reproduce import reproduce
from codesign.pipeline.selection import LOGLOSS_TOLERANCE, RULE_FALLBACK, RULE_MET, b_elite, c_seeds, select_c

__all__ = ["LOGLOSS_TOLERANCE", "PUBLISHED", "REPRO_BUDGETS", "RULE_FALLBACK", "RULE_MET", "STAGES",
           "ReproBudget", "b_elite", "c_seeds", "read_timings", "reproduce", "select_c",
           "summary_text", "write_report"]
