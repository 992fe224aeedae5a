# cython: language_level=3
# Reading a struct's field from its object slot, for the compiled twins that cimport it;
# and adding to a counter in its slot (the picows receiver's frame counts in Metrics).
#
# msgspec Structs (ws_stack's messages, Gate.io's wire shapes) keep their fields in object
# slots, at offsets their member descriptors give. A getattr costs some 40 instructions
# more a field than reading the slot; a twin that reads a few fields of every frame reads
# them here instead, and takes the getattr wherever the slot is not the plain object slot
# this relies on (``slot_offset`` gives -1), or the object is not of the exact type whose
# descriptor gave the offset (the caller checks that), or the field is unset.

from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF, Py_XDECREF


cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        int type
        Py_ssize_t offset
    ctypedef struct PyDescrObject:
        PyTypeObject* d_type
    ctypedef struct PyMemberDescrObject:
        PyDescrObject d_common
        PyMemberDef* d_member
    PyTypeObject PyMemberDescr_Type
    PyTypeObject* Py_TYPE(object)


cdef extern from "structmember.h":
    int T_OBJECT_EX


cdef inline Py_ssize_t slot_offset(object owner, str name) except -2:
    """Where ``owner`` keeps field ``name``: the offset of its plain object slot, or -1."""
    descriptor = owner.__dict__.get(name)
    if descriptor is None or Py_TYPE(descriptor) != &PyMemberDescr_Type:
        return -1
    cdef PyMemberDescrObject* member = <PyMemberDescrObject*>descriptor
    if member.d_common.d_type != <PyTypeObject*>owner:  # inherited from another class
        return -1
    if member.d_member.type != T_OBJECT_EX or member.d_member.offset <= 0:
        return -1
    return member.d_member.offset


cdef inline PyObject* slot(object instance, Py_ssize_t offset) noexcept:
    """The borrowed value in ``instance``'s slot at ``offset`` (> 0), NULL where unset.

    The caller has checked ``instance``'s exact type, whose descriptor gave the offset,
    and uses the value before anything else runs.
    """
    return (<PyObject**>(<char*><PyObject*>instance + offset))[0]


cdef inline object field(object instance, Py_ssize_t offset, str name):
    """``instance.<name>``, from its slot at ``offset`` where it has one (``offset`` > 0).

    The caller has checked ``instance``'s exact type, whose descriptor gave the offset.
    """
    cdef PyObject* value
    if offset > 0:
        value = slot(instance, offset)
        if value != NULL:  # unset: getattr raises the AttributeError
            return <object>value  # a new reference, taken before anything else runs
    return getattr(instance, name)


cdef inline int add_to_slot(object instance, Py_ssize_t offset, Py_ssize_t amount) except -1:
    """``instance.<field> += amount`` in the field's slot at ``offset`` (> 0), as
    ``STORE_ATTR`` to a slot does it: the new int stored, the old one let go.

    The caller has checked ``instance``'s exact type, whose descriptor gave the offset, and
    that the slot is set (an unset slot: the caller takes the attribute instead).
    """
    cdef PyObject** where = <PyObject**>(<char*><PyObject*>instance + offset)
    total = <object>where[0] + amount
    Py_INCREF(total)
    Py_XDECREF(where[0])
    where[0] = <PyObject*>total
    return 0
