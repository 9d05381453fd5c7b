"""Re-exports of codesign.pipeline.report; to be removed with the layout move."""

from codesign.pipeline.report import ReportError, energy_components, format_number, kernel_breakdown_plot
from codesign.pipeline.report import kernel_breakdown_table, markdown_table, pareto_plot, save_figure
from codesign.pipeline.report import write_csv, write_parquet, write_text
from pimsim.fileio import atomic_write_bytes

__all__ = ["ReportError", "atomic_write_bytes", "energy_components", "format_number",
           "kernel_breakdown_plot", "kernel_breakdown_table", "markdown_table", "pareto_plot",
           "save_figure", "write_csv", "write_parquet", "write_text"]
