"""Settings for the whole suite.

hypothesis fails an example that takes longer than its deadline (200 ms by default): a
timing assertion, which these tests do not make. On a loaded machine (two cores shared
with a benchmark run, say) a property test of the books once failed that way alone. The
examples keep their count and their shrinking; only the deadline goes, and the health check
that times the generation of examples (``too_slow``), for the same reason.
"""

from hypothesis import HealthCheck, settings

settings.register_profile("ws_stack", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ws_stack")
