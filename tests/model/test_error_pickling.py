"""Model errors survive pickling (multiprocessing, pytest-xdist): the same class, text and
facts on the other side, whatever their constructors take."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakestack import Cloud, ManualClock
from fakestack.model import errors
from fakestack.model.errors import CapacityExhausted, DomainError, InvariantViolation


def _same(error: BaseException) -> BaseException:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args
    assert copy.__dict__ == error.__dict__
    if isinstance(error, DomainError):
        assert isinstance(copy, DomainError)
        assert copy.to_dict() == error.to_dict()
    return copy


def _raised(call) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value


def test_errors_the_model_raises_pickle_with_their_facts():
    cloud = Cloud("demo", clock=ManualClock())
    golden = cloud.vms.get("golden")
    raised = [
        _raised(lambda: cloud.vms.get("no-such-vm")),
        _raised(lambda: cloud.clone_vm(golden, [])),
    ]
    result = cloud.clone_vm(golden, [f"c{i}" for i in range(200)])  # demo has room for 115
    shortages = [e.error for e in result.failed]
    assert shortages and all(isinstance(e, CapacityExhausted) for e in shortages)
    raised.append(shortages[0])
    cloud.stop_vm(golden)
    raised.append(_raised(lambda: cloud.instant_clone(golden, "ic")))  # only a running VM
    kinds = {type(e).__name__ for e in raised}
    assert kinds == {"NotFound", "InvalidArgument", "InvalidState", "CapacityExhausted"}
    for error in raised:
        copy = _same(error)
        assert copy.facts == error.facts


def test_invariant_violation_pickles():
    copy = _same(InvariantViolation(["host h1 uses more memory than it has", "orphan node n1"]))
    assert copy.breaches == ["host h1 uses more memory than it has", "orphan node n1"]


_ERROR_CLASSES = sorted(
    (c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, DomainError)),
    key=lambda c: c.__name__,
)
_texts = st.text(max_size=20)
_facts = st.dictionaries(
    st.sampled_from(["reason_code", "image_uuid", "media_type", "host_uuid"]),
    st.one_of(_texts, st.integers(), st.none()),
    max_size=3,
)
_ARGS = {
    "DomainError": lambda t, n, f: ((t,), f),
    "CapacityExhausted": lambda t, n, f: (("host.memory", n, n // 2), {"resource_uuid": t or None, **f}),
    "NotFound": lambda t, n, f: (("vm", t), f),
    "InvalidState": lambda t, n, f: (("vm", t, "Stopped", "stop"), f),
    "Conflict": lambda t, n, f: (("vm", t), f),
    "InvalidArgument": lambda t, n, f: (("names", t), f),
    "Unreachable": lambda t, n, f: (("host", t), f),
    "Timeout": lambda t, n, f: (("vm.start", float(n)), {}),
    "InjectedFailure": lambda t, n, f: (("vm.start", t, t or None), {}),
}


def test_every_error_class_is_drawn_below():
    assert [c.__name__ for c in _ERROR_CLASSES] == sorted(_ARGS)


@given(st.sampled_from(_ERROR_CLASSES), _texts, st.integers(min_value=0, max_value=2**62), _facts)
def test_any_domain_error_pickles(cls, text, number, facts):
    args, kwargs = _ARGS[cls.__name__](text, number, facts)
    _same(cls(*args, **kwargs))
