"""Endpoint handlers: validated call in, JSON-able answer out (errors as ``HttpError``)."""

from __future__ import annotations

from ..kit.cloud import DialectCloud
from .auth import configured_keys
from .errors import invalid_api_key
from .render import snapshot_info, vm_record, volume_info
from .service import InstaVMService


class Handlers:
    def __init__(self, cloud: DialectCloud) -> None:
        self.cloud = cloud
        self.service = InstaVMService(cloud)

    def before(self) -> None:
        """Settle InstaVM's records (what came due since the last look) and adopt the
        topology's VMs (at the first InstaVM request)."""
        state = self.cloud.dialect_state("instavm")
        if state.get("vms") or state.get("snapshots"):
            self.service.settle()
        self.service.adopt()

    def _vm(self, rec):
        return vm_record(rec, self.service.status(rec), self.service.sizing(rec))

    # VMs
    def create_vm(self, call):
        result = self.service.create_vm(call.body, call.query["wait"])
        return self._vm(result) if "created_at" in result else result

    def list_running_vms(self, call):
        s = self.service
        return [self._vm(r) for r in s.live_vms() if s.status(r) in ("creating", "active")]

    def list_all_vms(self, call):
        return [self._vm(r) for r in self.service.ordered_vms()]

    def get_vm(self, call):
        return self._vm(self.service.vm(call.path["vm_id"]))

    def update_vm(self, call):
        return self._vm(self.service.update_vm(call.path["vm_id"], call.body))

    def delete_vm(self, call):
        return self.service.delete_vm(call.path["vm_id"])

    def snapshot_vm(self, call):
        return self.service.snapshot_vm(call.path["vm_id"], call.body.name, call.query["wait"])

    def clone_vm(self, call):
        return self.service.clone_vm(call.path["vm_id"], call.body.snapshot_name, call.query["wait"])

    def suspend_vm(self, call):
        return self._vm(self.service.suspend_vm(call.path["vm_id"]))

    def resume_vm(self, call):
        return self._vm(self.service.resume_vm(call.path["vm_id"], call.query["wait"]))

    def list_vm_volumes(self, call):
        return self.service.vm_mounts(call.path["vm_id"])

    def mount_volume(self, call):
        return self.service.mount_volume(call.path["vm_id"], call.body)

    def unmount_volume(self, call):
        return self.service.unmount_volume(
            call.path["vm_id"], call.path["volume_id"], call.query["mount_path"]
        )

    # volumes
    def _volume(self, rec):
        return volume_info(rec, self.service.used_bytes(rec), self.service.mounted_on(rec))

    def create_volume(self, call):
        return self._volume(self.service.create_volume(call.body))

    def list_volumes(self, call):
        return [self._volume(rec) for rec in self.service.list_volume_records()]

    def get_volume(self, call):
        return self._volume(self.service.volume(call.path["volume_id"]))

    def delete_volume(self, call):
        return self.service.delete_volume(call.path["volume_id"])

    # snapshots
    def create_snapshot(self, call):
        return snapshot_info(self.service.create_oci_snapshot(call.body))

    def list_snapshots(self, call):
        return [snapshot_info(r) for r in self.service.list_snapshots(call.query["type"])]

    def get_snapshot(self, call):
        return snapshot_info(self.service.snapshot(call.path["snapshot_id"]))

    def delete_snapshot(self, call):
        return self.service.delete_snapshot(call.path["snapshot_id"])

    # sessions
    def create_session(self, call):
        if call.body.api_key not in configured_keys(self.service.state):
            raise invalid_api_key()
        return self.service.create_session(call.body)

    def session_status(self, call):
        return self.service.session_status(call.path["session_id"])

    def kill(self, call):
        return self.service.kill_session(call.body.session_id)

    # executions
    def execute(self, call):
        return self.service.execute(call.body)

    def execute_async(self, call):
        return self.service.execute_async(call.body)

    def task_result(self, call):
        return self.service.task_result(call.path["task_id"])

    # account
    def current_user(self, call):
        return self.service.current_user()

    def session_usage(self, call):
        return self.service.session_usage(call.path["session_id"])

    def list_templates(self, call):
        return self.service.templates()

    def get_template(self, call):
        return self.service.template(call.path["slug"])

    def vm_egress(self, call):
        return self.service.vm_egress(call.path["vm_id"])

    def set_vm_egress(self, call):
        return self.service.set_vm_egress(call.path["vm_id"], call.body)

    def session_egress(self, call):
        return self.service.session_egress(call.path["session_id"])

    def set_session_egress(self, call):
        return self.service.set_session_egress(call.path["session_id"], call.body)
