"""Every ABR algorithm the benchmark runs, by name: kithara's controller and the baselines."""

from __future__ import annotations

from collections.abc import Sequence

from kithara_cli.abr.baselines import (
    AbrAlgorithm,
    AlgorithmFactory,
    BbaBaseline,
    FixedBaseline,
    RustKitharaBaseline,
    ThroughputBaseline,
)
from kithara_cli.abr.controller import AbrController, VariantInfo
from kithara_cli.abr.mpc import RobustMpc
from kithara_cli.abr.sabre_rules import BolaE, Dynamic


def kithara_factory(variants: Sequence[VariantInfo], segment_duration: float) -> AbrAlgorithm:
    return AbrController(variants, segment_duration=segment_duration)


ALGORITHMS: dict[str, AlgorithmFactory] = {
    "kithara": kithara_factory,
    "bola-e": BolaE,
    "dynamic": Dynamic,
    "robust-mpc": RobustMpc,
    "throughput": ThroughputBaseline,  # hls.js's rule
    "bba": BbaBaseline,
    "rust-kithara": RustKitharaBaseline,
    "fixed-lowest": lambda v, d: FixedBaseline(v, d, highest=False),
    "fixed-highest": lambda v, d: FixedBaseline(v, d, highest=True),
}
