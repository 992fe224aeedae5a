# cython: language_level=3
# Decimal text to a double, as float() makes it, for the compiled twins that cimport it.
#
# Both venues send prices and sizes as decimal text: MEXC in protobuf strings, Gate.io in
# JSON strings. A twin checks the text against what its reference accepts, then takes the
# number from here: the same double the reference gets, bit for bit.
#
# A decimal of at most 15 digits is one IEEE division of two exact doubles (its digits as
# an integer, below 10**15 < 2**53, by a power of ten up to 1e15): correctly rounded, which
# is what float() and msgspec give. A longer one goes to CPython's own conversion.

from libc.stdint cimport uint8_t, uint64_t
from libc.string cimport memcpy

from cpython.object cimport PyObject


cdef extern from "Python.h":
    double PyOS_string_to_double(
        const char* text, char** end, PyObject* overflow_exception
    ) except? -1.0


cdef extern from *:
    """
    /* Powers of ten up to 1e15: each is exact as a double (up to 1e22 they are). */
    static const double WS_STACK_POWERS_OF_TEN[16] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15
    };
    /* The bound of every price and size (ws_stack.messages.MAX_NUMBER). */
    static const double WS_STACK_MAX_NUMBER = 1e15;
    """
    const double WS_STACK_POWERS_OF_TEN[16]
    const double MAX_NUMBER "WS_STACK_MAX_NUMBER"


cdef inline int read_decimal(const char* text, Py_ssize_t size, double* value) noexcept:
    """``float(text)`` for plain decimals (ASCII digits, at most one ``.``, a digit
    somewhere): 1 and the number in ``value``, or 0 for any other text."""
    cdef uint64_t units = 0  # wraps past 19 digits, where it is not used
    cdef Py_ssize_t point = -1
    cdef Py_ssize_t i
    cdef uint8_t digit
    for i in range(size):
        digit = <uint8_t>text[i] - 0x30
        if digit < 10:
            units = units * 10 + digit
        elif text[i] == 0x2E and point < 0:  # the one "."
            point = i
        else:
            return 0
    return decimal_value(text, size, units, point, value)


cdef inline int decimal_value(const char* text, Py_ssize_t size, uint64_t units,
                              Py_ssize_t point, double* value) noexcept:  # fmt: skip
    """The number of a plain decimal ``text`` a reader has scanned: ``units`` its digits as
    an integer (wrapped past 19 digits), ``point`` where its ``.`` is (-1: none). 1 and the
    number in ``value``, or 0 where ``text`` has no digit or is too long to convert."""
    cdef Py_ssize_t digits = size - (point >= 0)
    cdef char[64] copy
    if digits == 0:
        return 0
    if digits <= 15:  # units < 10**15 < 2**53 and places <= 15: both doubles exact
        value[0] = <double>units / WS_STACK_POWERS_OF_TEN[size - 1 - point if point >= 0 else 0]
        return 1
    if size >= 64:
        return 0
    # CPython's own conversion, as float() does it (the text is plain ASCII decimal).
    memcpy(copy, text, size)
    copy[size] = 0
    try:
        value[0] = PyOS_string_to_double(copy, NULL, NULL)
    except Exception:
        return 0
    return 1


cdef inline bint price_in_bounds(double value) noexcept:
    """Within ``messages.Price``'s bounds: above 0 and below MAX_NUMBER."""
    return 0.0 < value < MAX_NUMBER


cdef inline bint size_in_bounds(double value) noexcept:
    """Within ``messages.Size``'s bounds: from 0 to below MAX_NUMBER."""
    return 0.0 <= value < MAX_NUMBER


cdef inline int read_price(const char* text, Py_ssize_t size, double* value) noexcept:
    """A price: a plain decimal within ``messages.Price``'s bounds."""
    return read_decimal(text, size, value) and price_in_bounds(value[0])


cdef inline int read_size(const char* text, Py_ssize_t size, double* value) noexcept:
    """A size: a plain decimal within ``messages.Size``'s bounds."""
    return read_decimal(text, size, value) and size_in_bounds(value[0])
