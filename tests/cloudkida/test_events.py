"""Event types are declared once; ``also`` asks the registered recorder, and adds nothing without one."""

import pytest

from cloudkida import events
from cloudkida.dynamo import Also

PING = events.EventType("test.pinged", 1, "A test ping", {"type": "object"})


@pytest.fixture
def no_recorder():
    saved = list(events._recorder)
    events._recorder.clear()
    yield
    events._recorder[:] = saved


def test_an_undeclared_event_is_refused_and_a_declared_one_adds_nothing_without_a_recorder(no_recorder):
    with pytest.raises(ValueError, match="undeclared"):
        events.also("t1", "test.never_declared", {}, event_id="x")
    events.declare(PING)
    assert events.also("t1", "test.pinged", {"n": 1}, event_id="ping:1") == []
    assert PING in events.catalogue()


def test_a_type_declared_again_differently_is_refused():
    events.declare(PING)
    with pytest.raises(ValueError, match="already declared"):
        events.declare(events.EventType("test.pinged", 2, "A different ping"))


def test_the_recorder_gets_the_tenant_type_data_and_event_id(no_recorder):
    seen = []

    def recorder(tenant_id, event_type, data, event_id):
        seen.append((tenant_id, event_type.name, data, event_id))
        return [Also({"Put": {}}, "event")]

    events.declare(PING)
    events.set_recorder(recorder)
    assert [a.label for a in events.also("t1", "test.pinged", {"n": 1}, event_id="ping:1")] == ["event"]
    assert seen == [("t1", "test.pinged", {"n": 1}, "ping:1")]
