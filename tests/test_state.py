import pytest

from ws_stack.exceptions import InvalidStateTransition
from ws_stack.state import TRANSITIONS, ConnectionState, StateMachine

S = ConnectionState

#: The lifecycle the connection layer walks through, written out independently of TRANSITIONS.
HAPPY_PATH = [
    S.CONNECTING,
    S.CONNECTED,
    S.RECONNECTING,
    S.CONNECTING,
    S.CONNECTED,
    S.CLOSING,
    S.CLOSED,
]


def test_starts_disconnected():
    assert StateMachine().state is S.DISCONNECTED


def test_lifecycle_with_reconnect_and_callbacks():
    machine = StateMachine("test")
    seen = []
    machine.on_change(lambda old, new: seen.append((old, new)))
    for state in HAPPY_PATH:
        machine.become(state)
    assert machine.state is S.CLOSED
    assert seen == list(zip([S.DISCONNECTED, *HAPPY_PATH[:-1]], HAPPY_PATH, strict=True))
    assert machine.transitions == len(HAPPY_PATH)


def test_failed_attempts_end_in_error_then_closed():
    machine = StateMachine()
    for state in (S.CONNECTING, S.RECONNECTING, S.CONNECTING, S.ERROR, S.CLOSING, S.CLOSED):
        machine.become(state)
    assert machine.state is S.CLOSED


@pytest.mark.parametrize("start", list(S), ids=lambda s: s.value)
@pytest.mark.parametrize("target", list(S), ids=lambda s: s.value)
def test_every_pair_is_allowed_exactly_when_listed(start, target):
    machine = StateMachine("m")
    machine._state = start  # place the machine anywhere, then try one step
    if target in TRANSITIONS[start]:
        machine.become(target)
        assert machine.state is target
    else:
        with pytest.raises(InvalidStateTransition, match=f"{start.value} -> {target.value}"):
            machine.become(target)
        assert machine.state is start


def test_closed_is_final_and_error_cannot_reconnect():
    assert TRANSITIONS[S.CLOSED] == frozenset()
    assert S.CONNECTING not in TRANSITIONS[S.ERROR]
    assert all(S.CLOSING in TRANSITIONS[s] for s in S if s not in (S.CLOSING, S.CLOSED))


def test_invalid_transition_is_a_runtime_error_and_calls_no_callback():
    machine = StateMachine()
    calls = []
    machine.on_change(lambda old, new: calls.append(new))
    with pytest.raises(RuntimeError):
        machine.become(S.CONNECTED)
    assert calls == []


def test_raising_callback_does_not_stop_the_others(caplog):
    machine = StateMachine()
    seen = []

    def broken(old, new):
        raise ValueError("boom")

    machine.on_change(broken)
    machine.on_change(lambda old, new: seen.append(new))
    machine.become(S.CONNECTING)
    assert machine.state is S.CONNECTING
    assert seen == [S.CONNECTING]
    assert "boom" in caplog.text
