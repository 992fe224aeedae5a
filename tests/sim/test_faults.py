from ws_stack.sim.config import FaultConfig
from ws_stack.sim.faults import ConnectionAction, FaultPlan, PushAction


def decisions(plan, pattern):
    return [plan.decide(is_delta) for is_delta in pattern]


def test_no_faults_sends_everything():
    plan = FaultPlan(FaultConfig())
    assert set(decisions(plan, [True, False] * 50)) == {PushAction.SEND}
    assert {plan.sent() for _ in range(100)} == {ConnectionAction.NONE}


def test_malformed_every_nth_push():
    plan = FaultPlan(FaultConfig(malformed_every=3))
    got = decisions(plan, [False] * 9)
    assert [i for i, d in enumerate(got, 1) if d is PushAction.MALFORMED] == [3, 6, 9]
    assert plan.malformed == 3


def test_gap_counts_depth_deltas_only():
    plan = FaultPlan(FaultConfig(gap_every=2))
    got = decisions(plan, [True, False, True, False, True, True])
    assert [i for i, d in enumerate(got, 1) if d is PushAction.GAP] == [3, 6]


def test_malformed_takes_precedence_and_gap_counts_sent_deltas():
    plan = FaultPlan(FaultConfig(malformed_every=2, gap_every=2))
    got = decisions(plan, [True] * 6)
    assert got == [
        PushAction.SEND,
        PushAction.MALFORMED,
        PushAction.GAP,
        PushAction.MALFORMED,
        PushAction.SEND,
        PushAction.MALFORMED,
    ]


def test_close_and_stall_fire_once_at_their_count():
    plan = FaultPlan(FaultConfig(close_after_frames=5, stall_after_frames=2))
    actions = [plan.sent() for _ in range(8)]
    assert actions[1] is ConnectionAction.STALL
    assert actions[4] is ConnectionAction.CLOSE
    assert actions.count(ConnectionAction.NONE) == 6


def test_close_wins_over_stall_on_the_same_push():
    plan = FaultPlan(FaultConfig(close_after_frames=1, stall_after_frames=1))
    assert plan.sent() is ConnectionAction.CLOSE


def test_no_lag_unless_asked():
    plan = FaultPlan(FaultConfig())
    for _ in range(5000):
        plan.sent()
    assert plan.lag_ms() == 0


def test_lag_is_fixed_or_grows_with_the_pushes_sent():
    fixed = FaultPlan(FaultConfig(lag_seconds=0.5))
    growing = FaultPlan(FaultConfig(lag_seconds=0.5, lag_growth=0.2))
    assert fixed.lag_ms() == growing.lag_ms() == 500
    for _ in range(2500):
        fixed.sent()
        growing.sent()
    assert fixed.lag_ms() == 500
    assert growing.lag_ms() == 1000  # 0.5 s + 2.5 thousand pushes x 0.2 s


def test_silence_names_one_channel():
    plan = FaultPlan(FaultConfig(silence="trades"))
    assert plan.silenced("trades")
    assert not plan.silenced("book_ticker") and not plan.silenced("depth")
    assert not FaultPlan(FaultConfig()).silenced("trades")
