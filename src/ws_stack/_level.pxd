# cython: language_level=3
# Building a ws_stack.messages.Level from C, for the compiled readers that cimport it.

from cpython.float cimport PyFloat_FromDouble
from cpython.object cimport PyObject


cdef extern from "Python.h":
    object PyObject_Vectorcall(
        object callable, PyObject** args, size_t nargsf, PyObject* kwnames
    )


cdef inline object new_level(object level_class, double price, double size):
    """``level_class(price, size)`` (``Level``, which the caller passes), called as C calls
    it: two floats and a vectorcall, no argument tuple. The caller has checked the numbers
    against the bounds (``_decimal.price_in_bounds``, ``size_in_bounds``)."""
    cdef object price_object = PyFloat_FromDouble(price)
    cdef object size_object = PyFloat_FromDouble(size)
    cdef PyObject* args[2]
    args[0] = <PyObject*>price_object
    args[1] = <PyObject*>size_object
    return PyObject_Vectorcall(level_class, args, 2, NULL)
