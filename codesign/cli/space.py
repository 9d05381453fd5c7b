"""``codesign import-nasrec`` and ``codesign flops``: subnet specs on the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from codesign.cli.options import check_writable, command
from codesign.data.schema import DATASET_NAMES
from codesign.nas.flops import FLOPS_CONVENTION, FlopsReport, count_flops
from codesign.nas.nasrec_json import from_nasrec_json, load_spec, save_spec
from codesign.nas.space import SubnetSpec

#: Data set whose feature counts a FLOPs count uses when none is named.
DEFAULT_DATASET = "criteo"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = command(subparsers, "import-nasrec", cmd_import_nasrec)
    p.add_argument("file", type=Path, help="NASRec subnet JSON file")
    p.add_argument("-o", "--output", type=Path, default=None, help="write our spec JSON here")
    p.add_argument("--dataset", choices=DATASET_NAMES, default=DEFAULT_DATASET,
                   help="feature counts of the FLOPs count (default: %(default)s)")

    f = command(subparsers, "flops", cmd_flops)
    f.add_argument("--spec", type=Path, required=True, help="our spec JSON or a NASRec JSON")
    f.add_argument("--dataset", choices=DATASET_NAMES, default=DEFAULT_DATASET,
                   help="feature counts (default: %(default)s)")
    f.add_argument("--json", action="store_true", help="print the full report as JSON")


def summary_lines(spec: SubnetSpec, report: FlopsReport) -> list[str]:
    """The spec's blocks, one line each with its MFLOPs, then the totals."""
    per_block = report.per_block()
    lines = [
        f"space: {spec.space}   blocks: {spec.num_blocks}   emb_dim: {spec.emb_dim}",
        "block  dense_op  width  dense_in      left/right  sparse_op  tokens  sparse_in     "
        "merge  fm   MFLOPs",
    ]
    for i, b in enumerate(spec.blocks):
        reached = report.blocks_reached[i] if report.blocks_reached else True
        mf = f"{per_block.get(i, 0) / 1e6:7.4f}" if reached else "   (unused)"
        lines.append(
            f"{i:5d}  {b.dense_op:<8}  {b.dense_width:5d}  {str(list(b.dense_inputs)):<12}  "
            f"{b.dense_left}/{b.dense_right:<9}  {b.sparse_op:<9}  {b.sparse_tokens:6d}  "
            f"{str(list(b.sparse_inputs)):<12}  {int(b.dense_to_sparse):5d}  {int(b.deep_fm):2d}  {mf}"
        )
    lines.append(f"final layer: {per_block.get(-1, 0) / 1e6:.4f} MFLOPs")
    lines.append(
        f"total: {report.mflops:.4f} MFLOPs/sample, {FLOPS_CONVENTION} "
        f"({report.total_macs / 1e6:.4f} M multiply-adds, what NASRec's published MFLOPs "
        f"count); parameters: {report.params_dense:,} dense + {report.params_embedding:,} "
        "embedding"
    )
    return lines


def cmd_import_nasrec(args: argparse.Namespace) -> int:
    """Import a NASRec subnet JSON file, print a summary, optionally save our spec.

    Read a subnet in NASRec's JSON format (config xlarge = NASRec-Full, autoctr = NASRec-
    Small), print its blocks, operators, widths and MFLOPs, and optionally write it as a
    pimrec spec JSON.
    """
    if args.output is not None:
        check_writable(args.output, "-o", "file")
    spec = from_nasrec_json(args.file)
    report = count_flops(spec, args.dataset)
    print(f"{args.file}: NASRec subnet ({args.dataset} features)")
    print("\n".join(summary_lines(spec, report)))
    if args.output is not None:
        save_spec(spec, args.output)
        print(f"wrote {args.output}")
    return 0


def cmd_flops(args: argparse.Namespace) -> int:
    """FLOPs per sample (2 per multiply-add) and parameters of a subnet spec.

    Analytic FLOPs per sample: 2 FLOPs per multiply-add (the multiply-adds are printed too:
    NASRec's published MFLOPs count one per multiply-add); lookups, element-wise work and
    operators that do not reach the logit are not counted, as in NASRec.
    """
    spec = load_spec(args.spec)
    report = count_flops(spec, args.dataset)
    if args.json:
        print(json.dumps(report.to_dict(), indent=1))
    else:
        print(f"{args.spec} on {args.dataset}:")
        print("\n".join(summary_lines(spec, report)))
    return 0
