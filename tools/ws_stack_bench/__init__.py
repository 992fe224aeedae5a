"""Tooling around ws_stack's asv suite: HFT targets, compliance report, gate, publishing.

Nothing here is imported by the library itself; it needs the ``bench`` extra (asv) and
is driven by the ``ws-stack-bench`` command and the Makefile's bench/gate/serve targets.
"""
