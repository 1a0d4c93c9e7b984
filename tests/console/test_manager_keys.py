"""Saved pipelines keep their checkpoint keys; a deleted pipeline's checkpoint goes with it."""

from __future__ import annotations

from pathlib import Path

from laminar.console.manager import Pipeline, PipelineManager
from laminar.runtime.state import StateStore
from laminar.sql.engine import Engine


def test_restore_gives_each_saved_pipeline_its_own_key_back(tmp_path: Path) -> None:
    with StateStore.open(tmp_path) as store:
        manager = PipelineManager(Engine(state=store))
        # Two pipelines over the same SQL: the second's key got a suffix when created.
        for number, key in (("1", "stocks->stdout#2"), ("2", "stocks->stdout")):
            manager.pipelines[number] = Pipeline(
                id=number, name=f"p{number}", sql="SELECT 1 FROM stocks", key=key,
                state="stopped",
            )  # fmt: skip
        manager.save()
        again = PipelineManager(Engine(state=store))
        again.restore()  # stopped pipelines: restored, not started
        assert {p.id: p.key for p in again.pipelines.values()} == {
            "1": "stocks->stdout#2", "2": "stocks->stdout"
        }


async def test_delete_forgets_the_checkpoint(tmp_path: Path) -> None:
    with StateStore.open(tmp_path) as store:
        manager = PipelineManager(Engine(state=store))
        pipeline = Pipeline(id="1", name="p", sql="SELECT 1 FROM stocks",
                            key="stocks->stdout", state="stopped")  # fmt: skip
        manager.pipelines["1"] = pipeline
        store.commit("stocks->stdout", "stocks", "42", {}, None)
        assert store.checkpoint("stocks->stdout") is not None
        await manager.delete(pipeline)
        assert store.checkpoint("stocks->stdout") is None
