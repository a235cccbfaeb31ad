"""Request bodies, as the InstaVM API's FastAPI schemas declare them.

Every documented field is declared with its type and limits; undocumented fields are
ignored (pydantic's default), as the real server does. Limits come from the public docs
(see the reference, section 2); violations are 422s built by pydantic itself.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

VCPU_CHOICES = (1, 2, 4, 6, 8)
DEFAULT_VCPU_COUNT = 2
DEFAULT_MEMORY_MB = 512
DEFAULT_LIFETIME_SECONDS = 300


def _vcpu_choice(value: int) -> int:
    if value not in VCPU_CHOICES:
        raise ValueError("vcpu_count must be one of 1, 2, 4, 6, 8")
    return value


VcpuCount = Annotated[int, Field(ge=1, le=8), AfterValidator(_vcpu_choice)]
MemoryMb = Annotated[int, Field(ge=128, le=8192)]
LifetimeSeconds = Annotated[int, Field(ge=20, le=86400)]


class _Body(BaseModel):
    # a model's validator is built on its first use, not when the dialect is imported
    model_config = ConfigDict(defer_build=True)


class ShareSpec(_Body):
    port: Annotated[int, Field(ge=1, le=65535)]
    is_public: bool = False


class VMCreateRequest(_Body):
    session_id: str | None = None
    vm_lifetime_seconds: LifetimeSeconds | None = None
    memory_mb: MemoryMb | None = None
    vcpu_count: VcpuCount | None = None
    metadata: dict[str, Any] | None = None
    env: dict[str, str] | None = None
    egress_policy: Any | None = None
    snapshot_id: str | None = None
    snapshot_on_terminate: bool | None = None
    snapshot_name: str | None = None
    share: ShareSpec | None = None
    custom_domain: str | None = None
    # sent by the SDK / CLI, stored without effect
    volumes: list[Any] | None = None
    auto_suspend: bool | None = None
    auto_resume: bool | None = None
    vault_ids: list[Any] | None = None
    image_variant: str | None = None


class VMUpdateRequest(_Body):
    memory_mb: MemoryMb | None = None
    vcpu_count: VcpuCount | None = None  # not in the SDK docstring; resized like memory_mb
    snapshot_on_terminate: bool | None = None
    snapshot_name: str | None = None
    auto_suspend: bool | None = None
    auto_resume: bool | None = None
    vault_ids: list[Any] | None = None


class VMSnapshotRequest(_Body):
    name: str | None = None


class VMCloneRequest(_Body):
    snapshot_name: str | None = None


class BuildArgs(_Body):
    extra_apt_packages: list[str] | None = None
    extra_pip_packages: list[str] | None = None
    extra_npm_packages: list[str] | None = None
    git_clone_url: str | None = None
    git_clone_branch: str | None = None
    disk_size_gb: Annotated[int, Field(ge=1, le=16)] | None = None
    envs: dict[str, str] | None = None
    post_build_cmd: str | None = None


class SnapshotCreateRequest(_Body):
    oci_image: str
    name: str | None = None
    vcpu_count: Annotated[int, Field(ge=1, le=8)] = DEFAULT_VCPU_COUNT
    memory_mb: MemoryMb = DEFAULT_MEMORY_MB
    type: Literal["user", "system"] = "user"
    build_args: BuildArgs | None = None


class CreateSessionRequest(_Body):
    api_key: str
    vm_lifetime_seconds: LifetimeSeconds = DEFAULT_LIFETIME_SECONDS
    memory_mb: MemoryMb | None = None
    vcpu_count: VcpuCount = DEFAULT_VCPU_COUNT
    metadata: dict[str, Any] | None = None
    env: dict[str, str] | None = None


class ExecuteRequest(_Body):
    command: str
    session_id: str
    language: str | None = None
    timeout: int | None = None


class VolumeCreateRequest(_Body):
    name: Annotated[str, Field(min_length=1, max_length=255)]
    quota_bytes: Annotated[int, Field(ge=1)]


class VolumeMountRequest(_Body):
    volume_id: str
    mount_path: Annotated[str, Field(min_length=1)]
    mode: Literal["rw", "ro"] = "rw"
    checkpoint_id: str | None = None


def _cidr(value: str) -> str:
    ipaddress.ip_network(value, strict=False)  # ValueError: pydantic's value_error item
    return value


class EgressPolicy(_Body):
    allow_public_repos: bool = True
    allow_http: bool = True
    allow_https: bool = True
    allowed_domains: list[str] = []
    allowed_cidrs: list[Annotated[str, AfterValidator(_cidr)]] = []


class KillRequest(_Body):
    session_id: str
