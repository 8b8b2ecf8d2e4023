/* gdlite.Generator: a Python handle on a core generator (torch.Generator's
 * API for the CPU), and the converter that random functions use for their
 * `generator=` argument. Draws happen with the GIL held, which serialises
 * them the way torch's generator mutex does. */
#include "binding.h"

#include <string.h>

typedef struct {
    PyObject_HEAD gd_generator *gen; /* owned reference */
} GeneratorObject;

/* gdlite's device('cpu'), borrowed from gdlite._types when first needed. */
static PyObject *device_from(PyObject *spec) {
    PyObject *types = PyImport_ImportModule("gdlite._types");
    if (types == NULL)
        return NULL;
    PyObject *cls = PyObject_GetAttrString(types, "device");
    Py_DECREF(types);
    if (cls == NULL)
        return NULL;
    PyObject *dev =
        spec == NULL ? PyObject_CallNoArgs(cls) : PyObject_CallOneArg(cls, spec);
    Py_DECREF(cls);
    return dev;
}

static PyObject *wrap_generator(PyTypeObject *type, gd_generator *gen) {
    /* Takes a reference to gen. */
    GeneratorObject *self = (GeneratorObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    gd_generator_incref(gen);
    self->gen = gen;
    return (PyObject *)self;
}

static PyObject *generator_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"device", NULL};
    PyObject *device = Py_None, *checked = NULL, *self = NULL;
    gd_generator *gen = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:Generator", kwlist, &device))
        return NULL;
    /* gdlite's device() refuses every device but the CPU, with its message. */
    if (device != Py_None && (checked = device_from(device)) == NULL)
        return NULL;
    Py_XDECREF(checked);
    gd_status st = gd_generator_new(GD_GENERATOR_DEFAULT_SEED, &gen);
    if (st)
        return gdpy_raise(st);
    self = wrap_generator(type, gen);
    gd_generator_decref(gen);
    return self;
}

static void generator_dealloc(PyObject *self) {
    gd_generator_decref(((GeneratorObject *)self)->gen);
    Py_TYPE(self)->tp_free(self);
}

static gd_generator *gen_of(PyObject *self) {
    return ((GeneratorObject *)self)->gen;
}

/* torch's unpacking of a seed: any int in [-2^63, 2^64), negatives taken
 * modulo 2^64. */
static int seed_from_object(PyObject *arg, uint64_t *out) {
    if (!PyLong_Check(arg) || PyBool_Check(arg)) {
        if (PyArray_IsScalar(arg, Integer)) {
            /* torch accepts NumPy integers by type, then fails to unpack them. */
            PyErr_SetString(PyExc_TypeError, "an integer is required");
            return -1;
        }
        PyErr_Format(PyExc_RuntimeError, "manual_seed expected a long, but got %s",
                     Py_TYPE(arg)->tp_name);
        return -1;
    }
    unsigned long long u = PyLong_AsUnsignedLongLong(arg);
    if (u == (unsigned long long)-1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError))
            return -1;
        PyErr_Clear();
        long long s = PyLong_AsLongLong(arg);
        if (s == -1 && PyErr_Occurred()) {
            if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
                PyErr_Clear();
                PyErr_SetString(PyExc_ValueError, "Overflow when unpacking long long");
            }
            return -1;
        }
        u = (unsigned long long)s;
    }
    *out = u;
    return 0;
}

static PyObject *generator_manual_seed(PyObject *self, PyObject *arg) {
    uint64_t seed;
    if (seed_from_object(arg, &seed) < 0)
        return NULL;
    gd_generator_seed(gen_of(self), seed);
    return Py_NewRef(self);
}

static PyObject *generator_seed(PyObject *self, PyObject *unused) {
    (void)unused;
    uint64_t seed = gd_nondeterministic_seed();
    gd_generator_seed(gen_of(self), seed);
    return PyLong_FromUnsignedLongLong(seed);
}

static PyObject *generator_initial_seed(PyObject *self, PyObject *unused) {
    (void)unused;
    return PyLong_FromUnsignedLongLong(gen_of(self)->seed);
}

static PyObject *generator_get_state_bytes(PyObject *self, PyObject *unused) {
    (void)unused;
    PyObject *out = PyBytes_FromStringAndSize(NULL, GD_GENERATOR_STATE_SIZE);
    if (out != NULL)
        gd_generator_get_state(gen_of(self), (uint8_t *)PyBytes_AS_STRING(out));
    return out;
}

static PyObject *generator_set_state_bytes(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    gd_status st = gd_generator_set_state(gen_of(self), view.buf, view.len);
    PyBuffer_Release(&view);
    if (st)
        return gdpy_raise(st);
    return Py_NewRef(self);
}

/* The byte dtype torch's states use, if this build has one. */
static bool uint8_dtype(gd_dtype *out) {
    for (int i = 0; i < GD_DTYPE_COUNT; i++)
        if (strcmp(gd_dtype_name((gd_dtype)i), "uint8") == 0) {
            *out = (gd_dtype)i;
            return true;
        }
    return false;
}

static PyObject *no_uint8(const char *what) {
    PyErr_Format(PyExc_NotImplementedError,
                 "Generator.%s() needs gdlite.uint8, which this build of gdlite does "
                 "not have yet; Generator._get_state_bytes() and "
                 "_set_state_bytes() carry the same state as bytes",
                 what);
    return NULL;
}

static PyObject *generator_get_state(PyObject *self, PyObject *unused) {
    (void)unused;
    gd_dtype u8;
    if (!uint8_dtype(&u8))
        return no_uint8("get_state");
    int64_t n = GD_GENERATOR_STATE_SIZE;
    gd_tensor *out = NULL;
    gd_status st = gd_empty(u8, 1, &n, &out);
    if (st)
        return gdpy_raise(st);
    gd_generator_get_state(gen_of(self), (uint8_t *)gd_data_ptr(out));
    return gdpy_wrap(out);
}

static PyObject *generator_set_state(PyObject *self, PyObject *arg) {
    if (!gdpy_is_tensor(arg)) {
        PyErr_Format(PyExc_TypeError, "expected a gdlite.ByteTensor, but got %s",
                     Py_TYPE(arg)->tp_name);
        return NULL;
    }
    gd_dtype u8;
    gd_tensor *t = gdpy_tensor(arg), *c = NULL;
    if (!uint8_dtype(&u8))
        return no_uint8("set_state");
    if (t->dtype != u8) {
        PyErr_SetString(PyExc_TypeError, "RNG state must be a gdlite.ByteTensor");
        return NULL;
    }
    gd_status st = gd_contiguous(t, &c);
    if (!st)
        st = gd_generator_set_state(gen_of(self), (const uint8_t *)gd_data_ptr(c),
                                    c->numel);
    gd_tensor_decref(c);
    if (st)
        return gdpy_raise(st);
    return Py_NewRef(self);
}

/* A state for pickling: a tensor when gdlite has uint8, else bytes. */
static PyObject *state_object(PyObject *self) {
    gd_dtype u8;
    return uint8_dtype(&u8) ? generator_get_state(self, NULL)
                            : generator_get_state_bytes(self, NULL);
}

static PyObject *restore_state(PyObject *self, PyObject *state) {
    return gdpy_is_tensor(state) ? generator_set_state(self, state)
                                 : generator_set_state_bytes(self, state);
}

static PyObject *generator_clone_state(PyObject *self, PyObject *unused) {
    (void)unused;
    gd_generator *gen = NULL;
    gd_status st = gd_generator_new(GD_GENERATOR_DEFAULT_SEED, &gen);
    if (st)
        return gdpy_raise(st);
    gd_generator_copy_state(gen, gen_of(self));
    PyObject *out = wrap_generator(Py_TYPE(self), gen);
    gd_generator_decref(gen);
    return out;
}

static PyObject *no_offset(PyObject *self, PyObject *args) {
    (void)self;
    (void)args;
    PyErr_SetString(PyExc_RuntimeError, "CPU Generator does not use offset");
    return NULL;
}

static PyObject *generator_device(PyObject *self, void *closure) {
    (void)self;
    (void)closure;
    return device_from(NULL);
}

/* (Generator, (device,), (initial_seed, offset, state)) as torch pickles it. */
static PyObject *generator_reduce(PyObject *self, PyObject *unused) {
    (void)unused;
    PyObject *dev = NULL, *state = NULL, *out = NULL;
    if ((dev = generator_device(self, NULL)) == NULL ||
        (state = state_object(self)) == NULL)
        goto done;
    out = Py_BuildValue("O(O)(KOO)", (PyObject *)Py_TYPE(self), dev,
                        (unsigned long long)gen_of(self)->seed, Py_None, state);
done:
    Py_XDECREF(dev);
    Py_XDECREF(state);
    return out;
}

static PyObject *generator_setstate(PyObject *self, PyObject *arg) {
    PyObject *seed, *offset, *state;
    if (!PyArg_ParseTuple(arg, "OOO:__setstate__", &seed, &offset, &state))
        return NULL;
    if (offset != Py_None)
        return no_offset(self, NULL);
    PyObject *r = generator_manual_seed(self, seed);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    if ((r = restore_state(self, state)) == NULL)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_NONE;
}

static PyMethodDef generator_methods[] = {
    {"manual_seed", generator_manual_seed, METH_O,
     "manual_seed(seed) -> Generator\n\nSeeds this generator; later draws equal "
     "torch's after the same seed.\n\n>>> g = gdlite.Generator().manual_seed(0)\n"
     ">>> perm = gdlite.randperm(4, generator=g)"},
    {"seed", generator_seed, METH_NOARGS,
     "seed() -> int\n\nSeeds from /dev/urandom and returns the seed."},
    {"initial_seed", generator_initial_seed, METH_NOARGS,
     "initial_seed() -> int\n\nThe seed this generator was last seeded with."},
    {"get_state", generator_get_state, METH_NOARGS,
     "get_state() -> Tensor\n\ntorch's 5056-byte uint8 state (needs gdlite.uint8)."},
    {"set_state", generator_set_state, METH_O,
     "set_state(new_state) -> Generator\n\nRestores a state from get_state() or "
     "torch."},
    {"_get_state_bytes", generator_get_state_bytes, METH_NOARGS,
     "The state as the bytes of torch's get_state()."},
    {"_set_state_bytes", generator_set_state_bytes, METH_O,
     "Restores a state from the bytes of torch's get_state()."},
    {"clone_state", generator_clone_state, METH_NOARGS,
     "clone_state() -> Generator\n\nA new generator in the same state."},
    {"get_offset", no_offset, METH_NOARGS, "Refused: a CPU generator has no offset."},
    {"set_offset", no_offset, METH_O, "Refused: a CPU generator has no offset."},
    {"__reduce__", generator_reduce, METH_NOARGS, NULL},
    {"__setstate__", generator_setstate, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef generator_getset[] = {
    {"device", generator_device, NULL, "gdlite.device('cpu')", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject gdpy_Generator_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "gdlite._C.Generator",
    .tp_basicsize = sizeof(GeneratorObject),
    .tp_dealloc = generator_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Generator(device='cpu')\n\nA random number generator with torch's CPU "
              "streams (MT19937).\n\n>>> g = gdlite.Generator()\n>>> "
              "g.manual_seed(0)\n>>> gdlite.rand(2, generator=g)",
    .tp_methods = generator_methods,
    .tp_getset = generator_getset,
    .tp_new = generator_new,
};

int gdpy_generator_arg(PyObject *o, void *out) {
    if (o == Py_None) {
        *(gd_generator **)out = gd_default_generator();
        return 1;
    }
    if (!PyObject_TypeCheck(o, &gdpy_Generator_Type)) {
        PyErr_Format(PyExc_TypeError,
                     "argument 'generator' must be gdlite.Generator, not %s",
                     Py_TYPE(o)->tp_name);
        return 0;
    }
    *(gd_generator **)out = gen_of(o);
    return 1;
}

int gdpy_generator_module_init(PyObject *mod) {
    if (PyType_Ready(&gdpy_Generator_Type) < 0 ||
        PyModule_AddObjectRef(mod, "Generator", (PyObject *)&gdpy_Generator_Type) < 0)
        return -1;
    PyObject *dflt = wrap_generator(&gdpy_Generator_Type, gd_default_generator());
    if (dflt == NULL)
        return -1;
    int r = PyModule_AddObjectRef(mod, "default_generator", dflt);
    Py_DECREF(dflt);
    return r;
}
