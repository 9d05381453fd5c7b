"""The workload builder pimsim's ``--spec`` option uses (``pimsim simulate --spec`` and
``pimsim sweep --spec``), found through the entry point
``pimsim.workload_builders: subnet`` so that pimsim never names codesign."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from codesign.data.schema import DatasetSchema, get_schema
from codesign.errors import CodesignError
from codesign.hw.mapping import map_subnet
from codesign.nas.nasrec_json import load_spec
from codesign.nas.space import SubnetSpec, from_dict, to_dict
from codesign.hw.placement import PimPlan, load_plan
from codesign.hw.plans import apply_knobs
from pimsim import Workload, WorkloadError


@dataclass(frozen=True)
class SpecWorkload:
    """A picklable workload builder: ``builder(profile) -> Workload``.

    ``spec`` and ``plan`` are JSON dicts (the spec in our format or NASRec's); ``dataset``
    names the schema whose published table sizes the tables get. The PIM data type of
    kernels on PIM follows the profile it is called with, and the plan's knobs are not
    applied here: a sweep owns the hardware parameters; ``pimsim simulate --spec`` applies
    them first with :meth:`profile_for`.
    """

    spec: Any
    dataset: str
    plan: Any = None
    batch: int = 256

    @classmethod
    def from_files(cls, spec_path: str, dataset: str, plan_path: str | None = None,
                   batch: int = 256) -> SpecWorkload:
        spec = to_dict(load_spec(spec_path))
        plan = None if plan_path is None else load_plan(plan_path).to_dict()
        get_schema(dataset)  # a clear error for an unknown data set
        return cls(json.loads(json.dumps(spec)), dataset, plan, batch)

    def _parts(self) -> tuple[SubnetSpec, DatasetSchema, PimPlan | None]:
        plan = None if self.plan is None else PimPlan.from_dict(self.plan)
        return from_dict(self.spec), get_schema(self.dataset), plan

    @property
    def replicate_hot_rows(self) -> dict[str, int]:
        _, _, plan = self._parts()
        if plan is None:
            return {}
        return {f"emb.{f}": plan.hot_rows for f in plan.replicated_tables()}

    def profile_for(self, profile: Any) -> Any:
        """``profile`` with the plan's knobs applied."""
        try:
            _, _, plan = self._parts()
            return profile if plan is None else apply_knobs(profile, plan)
        except CodesignError as exc:  # pimsim's CLI reports its own error family
            raise WorkloadError(str(exc)) from None

    def __call__(self, profile: Any) -> Workload:
        try:
            spec, schema, plan = self._parts()
            if plan is not None and plan.knobs:
                plan = plan.model_copy(update={"knobs": {}})
            return map_subnet(spec, schema, plan, batch=self.batch, profile=profile)
        except CodesignError as exc:
            raise WorkloadError(str(exc)) from None
