"""Helpers shared by the vSphere dialect tests."""

from __future__ import annotations

import base64

from werkzeug.test import Client

from fakestack.model import Cloud, ManualClock

USER = "administrator@vsphere.local"
PASSWORD = "password"


def small_cloud(seed: int = 0):
    """A real cloud (the ``tiny`` topology) on a manual clock that starts at 2026-01-01."""
    return Cloud("tiny", seed=seed, clock=ManualClock())


def basic(user: str = USER, password: str = PASSWORD) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def client_for(cloud, **choices) -> Client:
    from fakestack.app import make_app
    from fakestack.dialects.vsphere import create_dialect

    return Client(make_app(cloud, [create_dialect(cloud, **choices)]))


def rest_login(client: Client) -> str:
    response = client.post("/rest/com/vmware/cis/session", headers=basic())
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["value"]


def api_login(client: Client) -> str:
    response = client.post("/api/session", headers=basic())
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def rpc(
    client: Client,
    service: str,
    operation: str,
    input_fields: dict | None = None,
    *,
    token: str | None = None,
    security: dict | None = None,
    request_id: str = "1",
) -> dict:
    if security is None:
        security = (
            {"schemeId": "com.vmware.vapi.std.security.session_id", "sessionId": token}
            if token is not None
            else {}
        )
    envelope = {
        "jsonrpc": "2.0",
        "method": "invoke",
        "id": request_id,
        "params": {
            "serviceId": service,
            "operationId": operation,
            "input": {"STRUCTURE": {"operation-input": input_fields or {}}},
            "ctx": {"appCtx": {"opId": "op-1"}, "securityCtx": security},
        },
    }
    response = client.post("/api", json=envelope)
    assert response.status_code == 200
    return response.get_json()


def rpc_login(client: Client) -> str:
    answer = rpc(
        client,
        "com.vmware.cis.session",
        "create",
        security={
            "schemeId": "com.vmware.vapi.std.security.user_pass",
            "userName": USER,
            "password": PASSWORD,
        },
    )
    return answer["result"]["output"]["SECRET"]


# --- three-surface driver (phase 2) ------------------------------------------------------

VM_SERVICE = "com.vmware.vcenter.VM"


def rpc_struct(name: str, fields: dict) -> dict:
    return {"STRUCTURE": {name: fields}}


def rpc_optional(value):
    return {"OPTIONAL": value}


def rpc_map(entries: dict) -> list:
    return [{"STRUCTURE": {"map-entry": {"key": k, "value": v}}} for k, v in entries.items()]


def rpc_instant_clone_spec(spec: dict) -> dict:
    """The /api form of an instant-clone spec, encoded as the SDK encodes it."""
    fields = {}
    for key, value in spec.items():
        if key == "placement":
            value = rpc_optional(
                rpc_struct(
                    "com.vmware.vcenter.VM.instant_clone_placement_spec",
                    {k: rpc_optional(v) for k, v in value.items()},
                )
            )
        elif key == "nics_to_update":
            value = rpc_optional(
                rpc_map(
                    {
                        k: rpc_struct(
                            "com.vmware.vcenter.vm.hardware.ethernet.update_spec",
                            {
                                f: rpc_optional(
                                    rpc_struct(
                                        "com.vmware.vcenter.vm.hardware.ethernet.backing_spec",
                                        {
                                            bk: (bv if bk == "type" else rpc_optional(bv))
                                            for bk, bv in fv.items()
                                        },
                                    )
                                    if f == "backing"
                                    else fv
                                )
                                for f, fv in v.items()
                            },
                        )
                        for k, v in value.items()
                    }
                )
            )
        elif key not in ("source", "name"):
            value = rpc_optional(value)
        fields[key] = value
    return rpc_struct("com.vmware.vcenter.VM.instant_clone_spec", fields)


class Outcome:
    """What a user sees of one call on any surface, normalised for comparison."""

    def __init__(
        self,
        status: int,
        value=None,
        error: str | None = None,
        message_id: str | None = None,
        args: list | None = None,
        raw=None,
    ) -> None:
        self.status, self.value, self.error, self.message_id, self.args, self.raw = (
            status,
            value,
            error,
            message_id,
            args,
            raw,
        )

    @property
    def ok(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:
        return f"Outcome({self.status}, value={self.value!r}, error={self.error!r}, id={self.message_id!r})"


def rest_outcome(response) -> Outcome:
    body = response.get_json(silent=True)
    if response.status_code < 300:
        return Outcome(response.status_code, body["value"] if body else None, raw=body)
    message = body["value"]["messages"][0] if body["value"]["messages"] else {}
    return Outcome(
        response.status_code,
        error=body["type"].rsplit(".", 1)[-1],
        message_id=message.get("id"),
        args=message.get("args"),
        raw=body,
    )


def api_outcome(response) -> Outcome:
    body = response.get_json(silent=True)
    if response.status_code < 300:
        return Outcome(response.status_code, body, raw=body)
    message = body["messages"][0] if body["messages"] else {}
    return Outcome(
        response.status_code,
        error=body["error_type"].lower(),
        message_id=message.get("id"),
        args=message.get("args"),
        raw=body,
    )


def rpc_outcome(answer: dict) -> Outcome:
    result = answer["result"]
    if "output" in result:
        return Outcome(200, result["output"], raw=answer)
    ((name, body),) = result["error"]["ERROR"].items()
    message = body["messages"][0]["STRUCTURE"]["com.vmware.vapi.std.localizable_message"]
    return Outcome(
        200, error=name.rsplit(".", 1)[-1], message_id=message["id"], args=message["args"], raw=answer
    )


class Surfaces:
    """Drives one cloud through /rest, /api and JSON-RPC with one logged-in session."""

    def __init__(self, cloud, **choices) -> None:
        self.cloud = cloud
        self.client = client_for(cloud, **choices)
        self.token = rest_login(self.client)

    @property
    def headers(self) -> dict:
        return {"vmware-api-session-id": self.token}

    def instant_clone(self, surface: str, spec: dict) -> Outcome:
        """``spec`` in the /api form (maps as objects)."""
        if surface == "rest":
            body = dict(spec)
            if "nics_to_update" in body:
                body["nics_to_update"] = [{"key": k, "value": v} for k, v in body["nics_to_update"].items()]
            return rest_outcome(
                self.client.post(
                    "/rest/vcenter/vm?action=instant-clone", json={"spec": body}, headers=self.headers
                )
            )
        if surface == "api":
            return api_outcome(
                self.client.post("/api/vcenter/vm?action=instant-clone", json=spec, headers=self.headers)
            )
        return rpc_outcome(
            rpc(
                self.client,
                VM_SERVICE,
                "instant_clone",
                {"spec": rpc_instant_clone_spec(spec)},
                token=self.token,
            )
        )

    def vm_ids(self) -> list[str]:
        return [item["vm"] for item in self.client.get("/api/vcenter/vm", headers=self.headers).get_json()]

    def power(self, surface: str, vm: str, action: str) -> Outcome:
        if surface == "rest":
            return rest_outcome(
                self.client.post(f"/rest/vcenter/vm/{vm}/power/{action}", headers=self.headers)
            )
        if surface == "api":
            return api_outcome(
                self.client.post(f"/api/vcenter/vm/{vm}/power?action={action}", headers=self.headers)
            )
        return rpc_outcome(
            rpc(self.client, "com.vmware.vcenter.vm.power", action, {"vm": vm}, token=self.token)
        )

    def power_state(self, vm: str) -> str:
        return self.client.get(f"/api/vcenter/vm/{vm}/power", headers=self.headers).get_json()["state"]


# --- a vCenter-like topology (issue 17) ------------------------------------------------------


def vcenter_topology(admission: str = "physical", datastore_size: str = "2T", leaf: str = "1M") -> dict:
    """The ``shared`` preset as a dict (datacenter ``dc-1``, clusters ``cluster-a`` with
    esx-1 and esx-3 and ``cluster-b`` with esx-2, datastores ds-1 and ds-2 admitting on
    physical space, port groups "VM Network" and "backend", a running 40 GiB ``golden``),
    with ds-1's admission and size and the new-leaf size changed as asked."""
    from fakestack.model.presets import shared

    topology = shared().model_dump()
    for ds in topology["primary_storages"]:
        ds["admission"] = admission
    topology["primary_storages"][0]["total_capacity"] = datastore_size
    topology["settings"]["new_leaf_size"] = leaf
    return topology
