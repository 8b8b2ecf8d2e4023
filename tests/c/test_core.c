/* Plain-C tests of the core, built with ASan+UBSan and leak detection
 * (`make asan`): ownership and error paths, checked without Python. */
#include "gd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#if defined(__SANITIZE_ADDRESS__)
/* A request far beyond memory must fail as malloc fails, not stop the run. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "allocator_may_return_null=1";
}
#endif

#define EXPECT(cond)                                                                   \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);        \
            failures++;                                                                \
        }                                                                              \
    } while (0)

static gd_tensor *from_values(gd_dtype dt, int ndim, const int64_t *shape,
                              const double *values) {
    gd_tensor *t = NULL;
    if (gd_empty(dt, ndim, shape, &t))
        return NULL;
    for (int64_t i = 0; i < t->numel; i++) {
        gd_tensor *slot = NULL, *flat = NULL;
        gd_view(t, 1, &t->numel, &flat);
        gd_slice(flat, 0, i, i + 1, 1, &slot);
        gd_fill_(slot, values[i]);
        gd_tensor_decref(slot);
        gd_tensor_decref(flat);
    }
    return t;
}

static void test_lifetime_and_views(void) {
    int64_t shape[2] = {2, 3};
    double v[6] = {0, 1, 2, 3, 4, 5};
    gd_tensor *a = from_values(GD_FLOAT32, 2, shape, v);
    gd_tensor *t = NULL, *s = NULL;
    EXPECT(gd_transpose(a, 0, 1, &t) == GD_OK);
    EXPECT(t->storage == a->storage && a->storage->refcount == 2);
    EXPECT(!gd_is_contiguous(t));
    EXPECT(gd_get_flat(t, 1) == 3.0); /* t[0][1] == a[1][0] */
    EXPECT(gd_select(t, 0, 2, &s) == GD_OK);
    EXPECT(s->ndim == 1 && gd_get_flat(s, 1) == 5.0);
    gd_fill_(s, 9.0); /* writes through to a's column 2 */
    EXPECT(gd_get_flat(a, 2) == 9.0 && gd_get_flat(a, 5) == 9.0);
    gd_tensor_decref(s);
    gd_tensor_decref(t);
    EXPECT(a->storage->refcount == 1);
    gd_tensor *bad = NULL;
    int64_t wrong[1] = {4};
    EXPECT(gd_view(a, 1, wrong, &bad) == GD_ERR_RUNTIME && bad == NULL);
    EXPECT(strstr(gd_last_error(), "is invalid for input of size 6") != NULL);
    gd_tensor_decref(a);
}

static void test_broadcast_binary(void) {
    int64_t sa[2] = {3, 1}, sb[1] = {4};
    double va[3] = {1, 2, 3}, vb[4] = {10, 20, 30, 40};
    gd_tensor *a = from_values(GD_INT64, 2, sa, va);
    gd_tensor *b = from_values(GD_INT64, 1, sb, vb);
    gd_tensor *c = NULL;
    EXPECT(gd_binary(GD_OP_ADD, a, b, GD_INT64, &c) == GD_OK);
    EXPECT(c->ndim == 2 && c->shape[0] == 3 && c->shape[1] == 4);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            EXPECT(gd_get_flat_int(c, i * 4 + j) == (int64_t)(va[i] + vb[j]));
    gd_tensor_decref(c);
    /* true division of integers gives float32 */
    EXPECT(gd_binary(GD_OP_DIV, a, b, GD_INT64, &c) == GD_OK && c->dtype == GD_FLOAT32);
    gd_tensor_decref(c);
    /* integer division by zero is an error, and frees its result */
    gd_tensor *zero = NULL;
    gd_zeros(GD_INT64, 1, sb, &zero);
    EXPECT(gd_binary(GD_OP_FLOOR_DIVIDE, b, zero, GD_INT64, &c) == GD_ERR_RUNTIME);
    EXPECT(c == NULL && strcmp(gd_last_error(), "ZeroDivisionError") == 0);
    int64_t s5[1] = {5};
    gd_tensor *five = NULL;
    gd_zeros(GD_INT64, 1, s5, &five);
    EXPECT(gd_binary(GD_OP_ADD, b, five, GD_INT64, &c) == GD_ERR_RUNTIME && !c);
    gd_tensor_decref(five);
    gd_tensor_decref(zero);
    gd_tensor_decref(a);
    gd_tensor_decref(b);
}

static void test_reduce_and_matmul(void) {
    int64_t shape[2] = {4, 5};
    double v[20];
    for (int i = 0; i < 20; i++)
        v[i] = (i * 7) % 11 - 3;
    gd_tensor *a = from_values(GD_FLOAT64, 2, shape, v);
    gd_tensor *s = NULL, *vals = NULL, *idx = NULL;
    int64_t dim = 1;
    EXPECT(gd_reduce(GD_OP_SUM, a, 1, &dim, false, 0, &s) == GD_OK);
    for (int i = 0; i < 4; i++) {
        double want = 0;
        for (int j = 0; j < 5; j++)
            want += v[i * 5 + j];
        EXPECT(gd_get_flat(s, i) == want);
    }
    gd_tensor_decref(s);
    EXPECT(gd_reduce_index(GD_OP_MAX, a, 0, true, &vals, &idx) == GD_OK);
    EXPECT(vals->ndim == 2 && vals->shape[0] == 1 && idx->dtype == GD_INT64);
    gd_tensor_decref(vals);
    gd_tensor_decref(idx);
    /* BLAS against the naive reference on a product big enough for BLAS */
    int64_t big[2] = {40, 50}, big2[2] = {50, 30};
    gd_tensor *x = NULL, *y = NULL, *p = NULL, *q = NULL, *yt = NULL;
    gd_empty(GD_FLOAT64, 2, big, &x);
    gd_empty(GD_FLOAT64, 2, big2, &y);
    for (int64_t i = 0; i < x->numel; i++)
        ((double *)gd_data_ptr(x))[i] = sin((double)i);
    for (int64_t i = 0; i < y->numel; i++)
        ((double *)gd_data_ptr(y))[i] = cos((double)i);
    EXPECT(gd_matmul(x, y, &p) == GD_OK && gd_matmul_reference(x, y, &q) == GD_OK);
    for (int64_t i = 0; i < p->numel; i++)
        EXPECT(fabs(gd_get_flat(p, i) - gd_get_flat(q, i)) < 1e-12);
    gd_tensor_decref(p);
    gd_transpose(y, 0, 1, &yt); /* 30x50 @ 50x40 with a transposed operand */
    EXPECT(gd_matmul(x, yt, &p) == GD_ERR_RUNTIME && p == NULL);
    gd_tensor_decref(yt);
    gd_tensor_decref(q);
    gd_tensor_decref(x);
    gd_tensor_decref(y);
    gd_tensor_decref(a);
}

static int released = 0;
static void count_release(void *context) {
    released += *(int *)context;
}

static void test_foreign_memory(void) {
    float data[6] = {1, 2, 3, 4, 5, 6};
    int one = 1;
    int64_t shape[2] = {2, 3}, strides[2] = {3, 1};
    gd_tensor *t = NULL, *v = NULL;
    EXPECT(gd_from_memory(data, sizeof data, GD_FLOAT32, 2, shape, strides, 0,
                          count_release, &one, &t) == GD_OK);
    EXPECT(gd_transpose(t, 0, 1, &v) == GD_OK);
    gd_tensor_decref(t);
    EXPECT(released == 0); /* the view still holds the storage */
    gd_tensor_decref(v);
    EXPECT(released == 1);
    int64_t too_many[GD_MAX_DIMS + 1] = {0};
    EXPECT(gd_from_memory(data, sizeof data, GD_FLOAT32, GD_MAX_DIMS + 1, too_many,
                          too_many, 0, count_release, &one, &t) != GD_OK);
    EXPECT(t == NULL && released == 2); /* failure still releases */
}

static void test_join_and_gather(void) {
    int64_t shape[1] = {3};
    double va[3] = {1, 2, 3}, vb[3] = {4, 5, 6};
    gd_tensor *ts[2] = {from_values(GD_FLOAT32, 1, shape, va),
                        from_values(GD_FLOAT32, 1, shape, vb)};
    gd_tensor *c = NULL, *s = NULL, *idx = NULL, *g = NULL;
    EXPECT(gd_cat(2, ts, 0, &c) == GD_OK && c->numel == 6 && gd_get_flat(c, 4) == 5);
    EXPECT(gd_stack(2, ts, 1, &s) == GD_OK && s->shape[0] == 3 && s->shape[1] == 2);
    EXPECT(gd_get_flat(s, 1) == 4);
    int64_t ishape[1] = {2};
    double iv[2] = {5, 0};
    idx = from_values(GD_INT64, 1, ishape, iv);
    EXPECT(gd_take(c, idx, &g) == GD_OK && gd_get_flat(g, 0) == 6 &&
           gd_get_flat(g, 1) == 1);
    EXPECT(gd_put_(c, idx, ts[0]) == GD_ERR_RUNTIME); /* 3 values for 2 slots */
    double bad[2] = {6, 0};
    gd_tensor *badidx = from_values(GD_INT64, 1, ishape, bad), *none = NULL;
    EXPECT(gd_take(c, badidx, &none) == GD_ERR_INDEX && none == NULL);
    gd_tensor_decref(badidx);
    gd_tensor_decref(g);
    gd_tensor_decref(idx);
    gd_tensor_decref(s);
    gd_tensor_decref(c);
    gd_tensor_decref(ts[0]);
    gd_tensor_decref(ts[1]);
}

/* The counting kernels: results, and every error path leaves outputs NULL
 * and frees what it took (leak detection is on here). */
static void test_counting(void) {
    int64_t n5[1] = {5}, n2[1] = {2}, n6[1] = {6};
    double xv[5] = {3, 1, 3, 0, 1}, wv[5] = {0.5, 1, 2, 4, 8}, neg[2] = {1, -1};
    double fv[6] = {0, NAN, 2, 0, -1, 2};
    gd_tensor *x = from_values(GD_INT64, 1, n5, xv),
              *w = from_values(GD_FLOAT32, 1, n5, wv);
    gd_tensor *bad = from_values(GD_INT64, 1, n2, neg),
              *f = from_values(GD_FLOAT64, 1, n6, fv);
    gd_tensor *out = NULL, *inv = NULL, *cnt = NULL;
    EXPECT(gd_bincount(x, NULL, 6, &out) == GD_OK && out->numel == 6);
    EXPECT(out && gd_get_flat(out, 1) == 2 && gd_get_flat(out, 3) == 2);
    gd_tensor_decref(out);
    EXPECT(gd_bincount(x, w, 0, &out) == GD_OK && out->dtype == GD_FLOAT32);
    EXPECT(out && gd_get_flat(out, 3) == 2.5 && gd_get_flat(out, 1) == 9);
    gd_tensor_decref(out);
    EXPECT(gd_bincount(bad, NULL, 0, &out) == GD_ERR_RUNTIME && out == NULL);
    EXPECT(gd_bincount(x, bad, 0, &out) == GD_ERR_RUNTIME && out == NULL);
    EXPECT(gd_bincount(f, NULL, 0, &out) == GD_ERR_NOTIMPL && out == NULL);
    EXPECT(gd_histc(f, 3, 0, 2, &out) == GD_OK && gd_get_flat(out, 0) == 2);
    EXPECT(out && gd_get_flat(out, 2) == 2 && gd_get_flat(out, 1) == 0);
    gd_tensor_decref(out);
    EXPECT(gd_histc(f, 3, 0, 0, &out) == GD_ERR_RUNTIME && out == NULL); /* NaN range */
    EXPECT(gd_histc(x, 3, 0, 1, &out) == GD_ERR_NOTIMPL && out == NULL);
    EXPECT(gd_histc(f, 0, 0, 1, &out) == GD_ERR_RUNTIME && out == NULL);
    EXPECT(gd_nonzero(f, &out) == GD_OK && out->shape[0] == 4 && out->shape[1] == 1);
    gd_tensor_decref(out);
    EXPECT(gd_unique(f, false, &out, &inv, &cnt) == GD_OK && out->numel == 4);
    EXPECT(out && gd_get_flat(out, 0) == -1 && isnan(gd_get_flat(out, 3)));
    EXPECT(cnt && gd_get_flat(cnt, 1) == 2 && inv && gd_get_flat(inv, 2) == 2);
    gd_tensor_decref(out);
    gd_tensor_decref(inv);
    gd_tensor_decref(cnt);
    EXPECT(gd_unique(x, true, &out, &inv, &cnt) == GD_OK && out->numel == 5);
    gd_tensor_decref(out);
    gd_tensor_decref(inv);
    gd_tensor_decref(cnt);
    gd_tensor_decref(x);
    gd_tensor_decref(w);
    gd_tensor_decref(bad);
    gd_tensor_decref(f);
}

static void test_generator(void) {
    /* MT19937's published first output for init_genrand(5489). */
    gd_generator *g = gd_default_generator();
    gd_generator_seed(g, 5489);
    EXPECT(gd_random32(g) == 3499211612u);
    int64_t perm[10];
    gd_generator_seed(g, 1);
    gd_randperm(g, perm, 10);
    int seen[10] = {0};
    for (int i = 0; i < 10; i++)
        seen[perm[i]]++;
    for (int i = 0; i < 10; i++)
        EXPECT(seen[i] == 1);
}

static void test_checked_sizes(void) {
    int64_t numel = -1;
    size_t nbytes = 1;
    /* element counts: fit, overflow, negative, too many dims */
    int64_t ok[3] = {2, 3, 4}, big[2] = {(int64_t)1 << 40, (int64_t)1 << 40};
    EXPECT(gd_shape_numel(3, ok, &numel) == GD_OK && numel == 24);
    EXPECT(gd_shape_numel(2, big, &numel) == GD_ERR_RUNTIME && numel == 0);
    EXPECT(strcmp(gd_last_error(), "numel: integer multiplication overflow") == 0);
    int64_t neg[2] = {2, -1};
    EXPECT(gd_shape_numel(2, neg, &numel) == GD_ERR_RUNTIME);
    EXPECT(strcmp(gd_last_error(),
                  "Trying to create tensor with negative dimension -1: [2, -1]") == 0);
    int64_t many[GD_MAX_DIMS + 1];
    for (int d = 0; d <= GD_MAX_DIMS; d++)
        many[d] = 1;
    EXPECT(gd_shape_numel(GD_MAX_DIMS, many, &numel) == GD_OK && numel == 1);
    EXPECT(gd_shape_numel(GD_MAX_DIMS + 1, many, &numel) == GD_ERR_RUNTIME);
    /* byte sizes: the largest that fits, one past it, and wrap-arounds */
    int64_t max_f32[1] = {INT64_MAX / 4}, past_f32[1] = {INT64_MAX / 4 + 1};
    EXPECT(gd_shape_nbytes(GD_FLOAT32, 1, max_f32, &numel, &nbytes) == GD_OK);
    EXPECT(numel == INT64_MAX / 4 && nbytes == (size_t)(INT64_MAX / 4) * 4);
    EXPECT(gd_shape_nbytes(GD_FLOAT32, 1, past_f32, &numel, &nbytes) == GD_ERR_RUNTIME);
    EXPECT(numel == 0 && nbytes == 0);
    EXPECT(strcmp(gd_last_error(), "Storage size calculation overflowed with "
                                   "sizes=[2305843009213693952]") == 0);
    int64_t wraps_to_zero[2] = {(int64_t)1 << 62, 4}; /* 2^64 bytes */
    EXPECT(gd_shape_nbytes(GD_BOOL, 2, wraps_to_zero, &numel, &nbytes) ==
           GD_ERR_RUNTIME);
    int64_t bool_max[1] = {INT64_MAX};
    EXPECT(gd_shape_nbytes(GD_BOOL, 1, bool_max, &numel, &nbytes) == GD_OK);
    EXPECT(nbytes == (size_t)INT64_MAX);
    /* an overflowing product is refused even when a later size is 0 */
    int64_t then_zero[3] = {(int64_t)1 << 32, (int64_t)1 << 32, 0};
    EXPECT(gd_shape_nbytes(GD_FLOAT32, 3, then_zero, &numel, &nbytes) ==
           GD_ERR_RUNTIME);
    /* a leading 0 keeps the byte size 0, but the strides still overflow */
    int64_t zero_first[3] = {0, (int64_t)1 << 32, (int64_t)1 << 32};
    EXPECT(gd_shape_nbytes(GD_FLOAT32, 3, zero_first, &numel, &nbytes) ==
           GD_ERR_RUNTIME);
    EXPECT(strcmp(gd_last_error(), "Stride calculation overflowed") == 0);
    int64_t zero_ok[2] = {0, (int64_t)1 << 62};
    EXPECT(gd_shape_nbytes(GD_FLOAT64, 2, zero_ok, &numel, &nbytes) == GD_OK);
    EXPECT(numel == 0 && nbytes == 0);
    EXPECT(gd_shape_nbytes_strided(GD_FLOAT32, 2, big, &numel, &nbytes) ==
           GD_ERR_RUNTIME);
    int64_t f32_over[2] = {(int64_t)1 << 31, (int64_t)1 << 31};
    EXPECT(gd_shape_nbytes_strided(GD_FLOAT32, 2, f32_over, &numel, &nbytes) ==
           GD_ERR_RUNTIME);
    EXPECT(strcmp(gd_last_error(), "Storage size calculation overflowed with "
                                   "sizes=[2147483648, 2147483648] and "
                                   "strides=[2147483648, 1]") == 0);
    /* every allocation goes through it: nothing is made, nothing leaks */
    gd_tensor *t = (gd_tensor *)&t;
    EXPECT(gd_empty(GD_FLOAT32, 2, wraps_to_zero, &t) == GD_ERR_RUNTIME && t == NULL);
    t = (gd_tensor *)&t;
    EXPECT(gd_zeros(GD_INT64, 1, past_f32, &t) == GD_ERR_RUNTIME && t == NULL);
    t = (gd_tensor *)&t;
    EXPECT(gd_full(GD_FLOAT64, 2, big, 1.0, &t) == GD_ERR_RUNTIME && t == NULL);
    /* a size that fits but cannot be allocated is a RuntimeError too */
    int64_t huge[1] = {(int64_t)1 << 58}; /* 2^60 bytes */
    t = (gd_tensor *)&t;
    EXPECT(gd_empty(GD_FLOAT32, 1, huge, &t) == GD_ERR_RUNTIME && t == NULL);
    EXPECT(strcmp(gd_last_error(),
                  "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: "
                  "can't allocate memory: you tried to allocate 1152921504606846976 "
                  "bytes. Error code 12 (Cannot allocate memory)") == 0);
    /* a view may have any element count that fits, with no storage behind it */
    int64_t one[1] = {1}, wide[2] = {(int64_t)1 << 31, (int64_t)1 << 31};
    gd_tensor *o = NULL, *e = NULL, *c = NULL;
    EXPECT(gd_full(GD_FLOAT32, 1, one, 1.0, &o) == GD_OK);
    EXPECT(gd_expand(o, 2, wide, &e) == GD_OK && e->numel == (int64_t)1 << 62);
    EXPECT(gd_contiguous(e, &c) == GD_ERR_RUNTIME && c == NULL);
    EXPECT(gd_expand(o, 2, big, &c) == GD_ERR_RUNTIME && c == NULL);
    gd_tensor_decref(e);
    gd_tensor_decref(o);
}

/* The worked example that opens gd.h, as written there. */
static void test_header_example(void) {
    int64_t shape[1] = {3};
    gd_tensor *w = NULL, *x = NULL, *wx = NULL, *y = NULL;
    gd_op_args args;
    gd_status st;
    double dw0 = 0;
    if ((st = gd_full(GD_FLOAT32, 1, shape, 2.0, &w)) ||
        (st = gd_full(GD_FLOAT32, 1, shape, 3.0, &x)) ||
        (st = gd_set_requires_grad(w, true)))
        goto done;
    gd_tensor *in[2] = {w, x};
    gd_op_args_init(&args);
    args.dtype = GD_FLOAT32;
    if ((st = gd_call(GD_OP_MUL, 2, in, &args, &wx)))
        goto done;
    gd_op_args_init(&args);
    if ((st = gd_call(GD_OP_SUM, 1, &wx, &args, &y)) ||
        (st = gd_backward(1, &y, NULL, false, false, 0, NULL, false, NULL)))
        goto done;
    dw0 = gd_get_flat(gd_get_grad(w), 0);
done:
    if (st)
        fprintf(stderr, "%s\n", gd_last_error());
    EXPECT(st == GD_OK);
    EXPECT(dw0 == 3.0);
    EXPECT(y && gd_get_flat(y, 0) == 18.0);
    gd_tensor_decref(y);
    gd_tensor_decref(wx);
    gd_tensor_decref(x);
    gd_tensor_decref(w);
}

int main(void) {
    test_lifetime_and_views();
    test_broadcast_binary();
    test_reduce_and_matmul();
    test_foreign_memory();
    test_join_and_gather();
    test_counting();
    test_generator();
    test_checked_sizes();
    test_header_example();
    if (failures) {
        fprintf(stderr, "core tests: %d failed\n", failures);
        return 1;
    }
    printf("core tests: all passed\n");
    return 0;
}
