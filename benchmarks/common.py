"""What the benchmark suites share: their parameter axes and each venue's symbol.

The axes are the ``params`` of several suites, defined once so that the suites agree on
venues, formats, channels and depths. The shared code lives in modules named for what
it does: ``asv_support`` (how the suite runs under asv), ``venue_frames``, ``parsers``,
``floors``, ``sim_process`` and ``connections``.
"""

#: Parameter axes of the suites (asv ``params``).
VENUES = ["mexc", "gateio"]
FORMATS = ["protobuf", "json"]
CHANNELS = ["trade", "book_ticker", "order_book"]
DEPTHS = [5, 20, 100]
#: Order-book depth of the per-message handler benchmarks (the targets' depth).
HANDLER_DEPTH = 20

#: The one symbol every benchmark streams, as each venue writes it.
MEXC_SYMBOL = "BTCUSDT"
GATEIO_SYMBOL = "BTC_USDT"
SYMBOLS = {"mexc": MEXC_SYMBOL, "gateio": GATEIO_SYMBOL}
