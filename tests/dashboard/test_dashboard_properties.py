"""Whatever operations ran, the dashboard's views tell the truth about the cloud."""

from __future__ import annotations

import json

from hypothesis import settings

from fakestack import strategies as fs
from fakestack.app import make_app
from fakestack.dashboard import render, views
from fakestack.stateful import CloudStateMachine

EVERYTHING = 100_000  # a tree limit no drawn cloud reaches


def walk(tree):
    stack = [(tree, None)]
    while stack:
        node, parent = stack.pop()
        yield node, parent
        stack.extend((child, node) for child in node["children"])


class DashboardTellsTheTruth(CloudStateMachine):
    """After every step: every disk node is drawn exactly once, in its storage's tree,
    under its parent; the bars carry the ledgers' own figures; every panel renders."""

    topology = fs.topologies(tight=True, max_hosts=2)

    def check(self) -> None:
        cloud = self.cloud
        for store in list(cloud.primary_storages) + list(cloud.backup_storages):
            view = views.tree(cloud, "storage", store.uuid, limit=EVERYTHING)
            drawn = {}
            for tree in view["trees"]:
                for node, parent in walk(tree):
                    assert node["uuid"] not in drawn, "a node drawn twice"
                    drawn[node["uuid"]] = node
                    model = cloud.nodes.get(node["uuid"])
                    assert model.storage_uuid == store.uuid
                    assert model.parent_uuid == (parent["uuid"] if parent else None)
                    assert node["hidden"] == (model.refs <= 0)
                    assert node["depth"] == model.depth <= view["max_chain_depth"]
            assert set(drawn) == {n.uuid for n in cloud.nodes if n.storage_uuid == store.uuid}
            assert view["nodes"] == len(drawn) and not view["truncated"]
        capacity = cloud.capacity()
        ledgers = views.ledgers(cloud)
        for bar, row in zip(ledgers["hosts"], capacity["hosts"]):
            assert (bar["cpu"]["used"], bar["memory"]["used"]) == (row["used_cpu"], row["used_memory"])
            assert bar["memory"]["placeable"] == row["placeable_memory"]
        for bar, row in zip(ledgers["primary_storages"], capacity["primary_storages"]):
            assert (bar["virtual"]["used"], bar["physical"]["used"]) == (
                row["used_capacity"],
                row["used_physical_capacity"],
            )
        for bar, row in zip(ledgers["backup_storages"], capacity["backup_storages"]):
            assert bar["capacity"]["used"] == row["used_capacity"]
        app = make_app(cloud)
        json.dumps(views.journal(app))
        assert render.capacity_html(ledgers).count('<section class="card') == (
            len(cloud.hosts) + len(cloud.primary_storages) + len(cloud.backup_storages)
        )
        for kind, key in [("vm", vm.uuid) for vm in cloud.vms][:3] + [
            ("storage", s.uuid) for s in cloud.primary_storages
        ]:
            render.trees_html(views.tree(cloud, kind, key))


TestDashboardTellsTheTruth = DashboardTellsTheTruth.TestCase
TestDashboardTellsTheTruth.settings = settings(
    TestDashboardTellsTheTruth.settings, max_examples=15, stateful_step_count=12
)
