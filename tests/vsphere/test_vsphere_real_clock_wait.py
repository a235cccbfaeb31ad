"""A synchronous call waiting on a real clock does not hold the cloud: other clients are
served while it waits (the kit's job wait releases the cloud lock)."""

from __future__ import annotations

import threading

from vsphere_support import api_login
from werkzeug.test import Client

from fakestack.app import make_app
from fakestack.model import Cloud, SystemClock
from fakestack.model.presets import demo


def test_another_client_is_served_while_an_instant_clone_waits_for_its_job():
    topology = demo()
    topology.settings.job_durations = {"vm.instant_clone": 1.5}
    cloud = Cloud(topology, seed=0, clock=SystemClock())
    app = make_app(cloud)
    waiting, other = Client(app), Client(app)
    token = api_login(waiting)
    headers = {"vmware-api-session-id": token}
    source = waiting.get("/api/vcenter/vm", headers=headers).get_json()[0]["vm"]
    answer: dict = {}

    def clone() -> None:
        answer["response"] = waiting.post(
            "/api/vcenter/vm?action=instant-clone", json={"source": source, "name": "slow"}, headers=headers
        )

    thread = threading.Thread(target=clone, daemon=True)
    thread.start()
    # Wait (without a time limit of our own) until the clone's job is in the model.
    while not any(job.operation == "vm.instant_clone" for job in list(cloud.jobs)):
        assert thread.is_alive(), "the clone answered before it was seen waiting"
        thread.join(0.01)
    # Another client: its requests are answered while the clone still waits.
    listed = other.get("/api/vcenter/vm", headers={"vmware-api-session-id": api_login(other)})
    admin = other.get("/_fakestack/health")
    assert thread.is_alive()
    assert listed.status_code == 200 and admin.status_code == 200
    names = {vm["name"] for vm in listed.get_json()}
    assert "slow" in names  # the clone's effects apply at once; only the answer waits
    thread.join(30)
    assert not thread.is_alive()
    response = answer["response"]
    assert response.status_code == 200, response.get_data(as_text=True)
    clone_id = response.get_json()
    assert clone_id in {vm["vm"] for vm in waiting.get("/api/vcenter/vm", headers=headers).get_json()}
    cloud.check_invariants()
