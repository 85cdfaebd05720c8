"""Tiny pipelines used by the seed run (before an upgrade) and the smoke suite (after).

Steps return plain Python values so artifacts round-trip through ZenML's built-in
materializers and can be compared by value after the upgrade.
"""

from typing import List

from zenml import pipeline, step

SEED_NUMBERS = [3, 1, 4, 1, 5, 9, 2, 6]


@step
def produce_numbers() -> List[int]:
    return list(SEED_NUMBERS)


@step
def summarize(numbers: List[int]) -> dict:
    return {"count": len(numbers), "total": sum(numbers), "max": max(numbers)}


@pipeline(enable_cache=False)
def smoke_seed_pipeline() -> None:
    summarize(produce_numbers())


@step
def square(x: int) -> int:
    return x * x


@pipeline(enable_cache=False)
def smoke_check_pipeline(x: int = 7) -> None:
    square(x)


def step_outputs(run, step_name: str):
    """Yields (output_name, artifact_version) of a step, across ZenML output layouts.

    Newer ZenML versions map each output name to a list of artifact versions; older
    ones to a single artifact version.
    """
    for name, value in run.steps[step_name].outputs.items():
        for av in value if isinstance(value, list) else [value]:
            yield name, av
