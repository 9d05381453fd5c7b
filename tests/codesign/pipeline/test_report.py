"""Tests of codesign.pipeline.report: Markdown tables, atomic files, Pareto and kernel-breakdown
plots, and plotting without pyplot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from codesign.errors import CodesignError
from codesign.pipeline.plots import (
    energy_components,
    front_2d,
    kernel_breakdown_figure,
    kernel_breakdown_plot,
    kernel_breakdown_table,
    pareto_figure,
    pareto_plot,
)
from codesign.pipeline.report import (
    ReportError,
    markdown_table,
    save_figure,
    write_csv,
    write_parquet,
    write_text,
)
from codesign.search import non_dominated_sort
from pimsim.util.fileio import atomic_write_bytes

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in os.listdir(folder) if p.endswith(".tmp")]


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_markdown_table_exact_text() -> None:
    df = pd.DataFrame(
        {
            "model": ["B", "C|pim"],
            "logloss": [0.4412345678, np.nan],
            "flops": [1200, 600],
            "ok": [True, False],
        }
    )
    assert markdown_table(df) == (
        "| model | logloss | flops | ok |\n"
        "|:---|---:|---:|:---|\n"
        "| B | 0.441235 | 1200 | yes |\n"
        "| C\\|pim |  | 600 | no |\n"
    )
    text = markdown_table(df, float_format={"logloss": ".3f"}, formatters={"flops": "{:,}x".format})
    assert "| B | 0.441 | 1,200x | yes |" in text
    indexed = markdown_table(pd.DataFrame({"v": [1.5]}, index=pd.Index(["row\n1"], name="k")),
                             index=True)
    assert indexed.splitlines()[2] == "| row<br>1 | 1.5 |"
    with pytest.raises(ReportError, match="DataFrame"):
        markdown_table([1, 2])  # type: ignore[arg-type]
    assert issubclass(ReportError, CodesignError)


def test_atomic_writes_round_trip_and_keep_the_old_file_on_failure(tmp_path: Path) -> None:
    df = pd.DataFrame({"name": ["a", "b"], "latency_ns": [1.0 / 3.0, 2.5e9]})
    csv = write_csv(df, tmp_path / "sub" / "t.csv")
    pd.testing.assert_frame_equal(pd.read_csv(csv), df)  # full float precision
    pq = write_parquet(df, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(pq), df)
    md = write_text(tmp_path / "r.md", "# report\n")
    assert md.read_text() == "# report\n"
    atomic_write_bytes(md, b"new")
    assert md.read_bytes() == b"new"

    from matplotlib.figure import Figure

    fig = Figure()
    fig.add_subplot(1, 1, 1).plot([0, 1], [1, 0])
    png = save_figure(fig, tmp_path / "f.png")
    before = png.read_bytes()
    assert before[:8] == PNG_MAGIC
    with pytest.raises(ValueError):
        save_figure(fig, tmp_path / "f.notaformat")
    assert png.read_bytes() == before
    assert not (tmp_path / "f.notaformat").exists()
    assert _no_temp_files(tmp_path) and _no_temp_files(tmp_path / "sub")


def test_front_2d_matches_non_dominated_sort() -> None:
    rng = np.random.default_rng(0)
    pts = rng.integers(0, 6, size=(60, 2)).astype(float)
    front = front_2d(pts[:, 0], pts[:, 1])
    on_front = non_dominated_sort(pts) == 0
    # One representative per distinct front point, sorted by x.
    assert {tuple(p) for p in pts[front]} == {tuple(p) for p in pts[on_front]}
    assert np.all(np.diff(pts[front, 0]) > 0) and np.all(np.diff(pts[front, 1]) < 0)


def test_pareto_plot_writes_a_png_with_marks(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 40
    df = pd.DataFrame(
        {
            "logloss": 0.44 + 0.01 * rng.random(n),
            "energy_pj": 10 ** rng.uniform(5, 9, n),
            "latency_ns": rng.uniform(1e4, 5e4, n),
        }
    )
    df["front"] = non_dominated_sort(df[["logloss", "energy_pj", "latency_ns"]].to_numpy())
    marks = {"B": df.iloc[0].to_dict(), "C": df.iloc[1].to_dict()}
    out = pareto_plot(df, tmp_path / "pareto.png", marks=marks, title="toy")
    width, height = _png_size(out)
    assert width > 2 * height > 0  # two panels side by side
    assert _no_temp_files(tmp_path)
    with pytest.raises(ReportError, match=r"missing column\(s\) \['energy_pj'\]"):
        pareto_plot(df.drop(columns="energy_pj"), tmp_path / "x.png")
    with pytest.raises(ReportError, match="marks.B"):
        pareto_plot(df, tmp_path / "x.png", marks={"B": {"logloss": 0.4}})
    with pytest.raises(ReportError, match="front_mask"):
        pareto_plot(df, tmp_path / "x.png", front_mask=[True])
    assert not (tmp_path / "x.png").exists()


def _kernels() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ["B", "B", "B", "C", "C"],
            "name": ["emb0", "fc1", "fc2", "emb0", "fc1"],
            "latency_ns": [500.0, 300.0, 100.0, 200.0, 250.0],
            "energy_dram_pj": [10.0, 5.0, 1.0, 4.0, 2.0],
            "energy_pim_pj": [0.0, 0.0, 0.0, 3.0, 1.0],
            "energy_total_pj": [10.0, 5.0, 1.0, 7.0, 3.0],
        }
    )


def test_kernel_breakdown_table_and_plot(tmp_path: Path) -> None:
    kernels = _kernels()
    assert energy_components(kernels) == ["energy_dram_pj", "energy_pim_pj"]
    assert energy_components(pd.DataFrame(columns=["energy_pj"])) == ["energy_pj"]
    table = kernel_breakdown_table(kernels, group="model", max_kernels=2)
    assert list(table["label"]) == ["B: emb0", "B: fc1", "B: other (1 kernels)", "C: fc1",
                                    "C: emb0"]
    assert table["latency_ns"].sum() == kernels["latency_ns"].sum()
    assert table["energy_dram_pj"].sum() == kernels["energy_dram_pj"].sum()
    assert table.loc[2, "latency_ns"] == 100.0
    out = kernel_breakdown_plot(kernels, tmp_path / "kernels.png", group="model", title="B vs C")
    assert _png_size(out)[0] > 0
    plain = kernel_breakdown_plot(kernels[kernels["model"] == "C"], tmp_path / "c.png")
    assert _png_size(plain)[1] > 0
    bad = kernels.copy()
    bad.loc[3, "energy_pim_pj"] = -1.0
    with pytest.raises(ReportError, match="row 3 column energy_pim_pj"):
        kernel_breakdown_plot(bad, tmp_path / "bad.png")
    with pytest.raises(ReportError, match="energy_<component>_pj"):
        kernel_breakdown_plot(kernels[["name", "latency_ns"]], tmp_path / "bad.png")
    with pytest.raises(ReportError, match="no rows"):
        kernel_breakdown_plot(kernels.iloc[0:0], tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


def test_plots_never_import_pyplot(tmp_path: Path) -> None:
    # A fresh interpreter: the test process itself may have imported pyplot elsewhere.
    code = (
        "import sys, pandas as pd\n"
        "from codesign.pipeline.plots import kernel_breakdown_plot, pareto_plot\n"
        "df = pd.DataFrame({'logloss': [0.5, 0.4], 'energy_pj': [1.0, 2.0], 'latency_ns': [2.0, 1.0]})\n"
        f"pareto_plot(df, {str(tmp_path / 'p.png')!r})\n"
        "k = pd.DataFrame({'name': ['a'], 'latency_ns': [1.0], 'energy_dram_pj': [1.0]})\n"
        f"kernel_breakdown_plot(k, {str(tmp_path / 'k.png')!r})\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert _png_size(tmp_path / "p.png")[0] > 0 and _png_size(tmp_path / "k.png")[0] > 0


# ------------------------------------------------------------------ readable reproduction plots


def _cluster(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"logloss": 0.44 + 0.01 * rng.random(n),
                       "energy_pj": rng.uniform(1e6, 2e6, n),
                       "latency_ns": rng.uniform(1e4, 2e4, n)})
    df["front"] = non_dominated_sort(df[["logloss", "energy_pj", "latency_ns"]].to_numpy())
    return df


def _mark_texts(fig: object) -> list[list[object]]:
    return [[t for t in ax.texts] for ax in fig.axes]  # type: ignore[attr-defined]


def test_pareto_labels_of_b_and_c_never_overprint() -> None:
    df = _cluster()
    b = {"logloss": 0.441, "energy_pj": 1.05e6, "latency_ns": 1.05e4}
    near = {"logloss": 0.441, "energy_pj": 1.051e6, "latency_ns": 1.051e4}
    far = {"logloss": 0.449, "energy_pj": 1.95e6, "latency_ns": 1.95e4}
    for c, expected in ((b, ["B = C"]), (near, ["B, C"]), (far, ["B", "C"])):
        fig = pareto_figure(df, marks={"B": b, "C": c})
        renderer = fig.canvas.get_renderer()
        for texts in _mark_texts(fig):
            assert sorted(t.get_text() for t in texts) == expected
            boxes = [t.get_window_extent(renderer) for t in texts]
            assert not any(boxes[i].overlaps(boxes[j])
                           for i in range(len(boxes)) for j in range(i + 1, len(boxes)))


def test_pareto_outliers_are_drawn_at_the_edge_not_squashing_the_front() -> None:
    df = _cluster()
    df.loc[len(df)] = {"logloss": 0.445, "energy_pj": 5e9, "latency_ns": 1.5e4, "front": 1}
    df.loc[len(df)] = {"logloss": 5.0, "energy_pj": 1.5e6, "latency_ns": 3e7, "front": 1}
    fig = pareto_figure(df, log_x=False)
    for ax, x_col in zip(fig.axes, ("energy_pj", "latency_ns")):
        x_hi, y_hi = ax.get_xlim()[1], ax.get_ylim()[1]
        assert y_hi < 1.0  # the log loss of 5 does not stretch the axis ...
        assert x_hi < df[x_col].max() / 100  # ... nor the 1000x energy or latency
        # the front and the cluster stay inside; the two outliers are marked at the edge
        cluster = df.iloc[:40]
        assert (cluster[x_col] < x_hi).all() and (cluster["logloss"] < y_hi).all()
        labels = ax.get_legend_handles_labels()[1] if ax is fig.axes[0] else []
        if labels:
            assert "beyond the axes (2), drawn at the edge" in labels


def test_breakdown_bars_are_coloured_by_placement() -> None:
    kernels = _kernels().assign(placement=["host", "pim", "host", "pim", "pim"])
    fig = kernel_breakdown_figure(kernels, group="model")
    ax_lat = fig.axes[0]
    handles, labels = ax_lat.get_legend_handles_labels()
    assert labels == ["host", "PIM"]
    colour = {lab: tuple(h.patches[0].get_facecolor()) for h, lab in zip(handles, labels)}
    assert colour["host"] != colour["PIM"]
    # one bar per row, its colour its placement's
    table = kernel_breakdown_table(kernels, group="model")
    bars = sorted((p for h in handles for p in h.patches), key=lambda p: -p.get_y())
    want = ["host" if k == "host" else "PIM" for k in table["placement"]]
    assert [tuple(p.get_facecolor()) for p in bars] == [colour[w] for w in want]
