"""``/execute``, ``/execute_async`` and ``/v1/executions/{task_id}``: commands answered by
the test's handler (``executions.on_execute``), on the session's VM.

A session without a VM gets one booted first (as ``POST /v1/vms`` with the session: its
sizes, capacity checked, 503 when there is no room); a suspended VM is resumed when it
has ``auto_resume``, else 409; a dead one is 409.  An execution takes the handler's
``duration`` of clock time: ``/execute`` answers when it has passed (a manual clock is
moved, a real clock waited on with the cloud released); ``/execute_async`` runs the
handler now and reveals the output once the task's timer job has ended.
"""

from __future__ import annotations

from typing import Any

from ...kit.jobs import wait_until
from .. import executions
from .. import ids as idfmt
from ..errors import HttpError
from ..render import timestamp
from ..schemas import VMCreateRequest
from .suspension import SuspensionOperations


class ExecutionOperations(SuspensionOperations):
    @property
    def tasks(self) -> dict:
        return self.state.setdefault("tasks", {})

    def _execute(self, body, endpoint: str) -> tuple[executions.Output, dict]:
        handler = executions.handler_for(self.cloud)
        if handler is None:
            raise HttpError(501, f"POST {endpoint}: {executions.REGISTER_HINT}")
        session = self.sessions.get(body.session_id)
        if session is None:
            raise HttpError(404, "Session not found")
        rec = self.vms.get(session.get("vm_id") or "")
        self.dialect_fault("Execute", session=body.session_id)
        if rec is None:
            rec = self.create_vm(VMCreateRequest(session_id=body.session_id), wait=True)
        elif rec["status"] == "creating":
            self.await_ready(rec, "VM provisioning timed out")
        rec = self.wake_for_use(rec)
        context = {
            "language": body.language,
            "session_id": body.session_id,
            "vm_id": rec["vm_id"],
            "timeout": body.timeout,
        }
        return executions.run(handler, body.command, context), rec

    def execute(self, body) -> dict[str, Any]:
        output, _ = self._execute(body, "/execute")
        if output.duration:
            wait_until(self.cloud, self.now() + output.duration)
        return {
            "stdout": output.stdout,
            "stderr": output.stderr,
            "exit_code": output.exit_code,
            "execution_time": output.duration,
            "cpu_time": None,
        }

    def execute_async(self, body) -> dict[str, Any]:
        output, rec = self._execute(body, "/execute_async")
        task_id = idfmt.new_task_id(self.cloud.ids, self.tasks)
        job = self.cloud.timed_job("execution", output.duration, uuid=task_id)
        self.tasks[task_id] = {
            "task_id": task_id,
            "session_id": body.session_id,
            "vm_id": rec["vm_id"],
            "command": body.command,
            "language": body.language,
            "timer": job.uuid,
            "stdout": output.stdout,
            "stderr": output.stderr,
            "exit_code": output.exit_code,
            "duration": output.duration,
            "created_at": self.now(),
        }
        return {"task_id": task_id, "session_id": body.session_id, "status": self._task_status(task_id)}

    def _task_status(self, task_id: str) -> str:
        end = self._job_end(self.tasks[task_id]["timer"])
        return "completed" if end is not None and end <= self.now() else "running"

    def task_result(self, task_id: str) -> dict[str, Any]:
        task = self.tasks.get(task_id)
        if task is None:
            raise HttpError(404, "Task not found")
        status = self._task_status(task_id)
        done = status == "completed"
        return {
            "task_id": task_id,
            "status": status,
            "is_complete": done,
            "serialized_stdout": task["stdout"] if done else "",
            "serialized_stderr": task["stderr"] if done else "",
            "exit_code": task["exit_code"] if done else None,
            "execution_time": task["duration"] if done else None,
            "cpu_time": None,
            "created_at": timestamp(task["created_at"]),
        }
