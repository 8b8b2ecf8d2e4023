/* Matrix products: torch.matmul's shape rules over one 2-D kernel that calls
 * BLAS for floating matrices, and the naive loop it is tested against. */
#include "kernels_matmul.h"

#include <cblas.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* c = beta * c + alpha * (a @ b), in PyTorch's order: the product summed in
 * the element type, then scaled and added; with beta == 0, c is only written. */
#define NAIVE_MM(name, T, ACC, SC)                                                     \
    static void name(int64_t m, int64_t n, int64_t k, mat_ref a, mat_ref b, T *c,      \
                     double alpha, double beta) {                                      \
        const T *pa = (const T *)a.data, *pb = (const T *)b.data;                      \
        T al = (T)(SC)alpha, be = (T)(SC)beta;                                         \
        for (int64_t i = 0; i < m; i++)                                                \
            for (int64_t j = 0; j < n; j++) {                                          \
                ACC acc = 0;                                                           \
                for (int64_t p = 0; p < k; p++)                                        \
                    acc +=                                                             \
                        (ACC)pa[i * a.rs + p * a.cs] * (ACC)pb[p * b.rs + j * b.cs];   \
                T r = (T)acc;                                                          \
                if (alpha != 1)                                                        \
                    r = (T)(al * r);                                                   \
                if (beta == 1)                                                         \
                    r = (T)(c[i * n + j] + r);                                         \
                else if (beta != 0)                                                    \
                    r = (T)(be * c[i * n + j] + r);                                    \
                c[i * n + j] = r;                                                      \
            }                                                                          \
    }
/* SC: the scalars' type on the way in (integers arrive integral, in range). */
NAIVE_MM(naive_f32, float, float, double)
NAIVE_MM(naive_f64, double, double, double)
NAIVE_MM(naive_u8, uint8_t, uint64_t, int64_t)
NAIVE_MM(naive_i32, int32_t, uint32_t, int64_t)
NAIVE_MM(naive_i64, int64_t, uint64_t, int64_t)

static void naive_b(int64_t m, int64_t n, int64_t k, mat_ref a, mat_ref b, uint8_t *c) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            uint8_t acc = 0;
            for (int64_t p = 0; p < k; p++)
                acc |= a.data[i * a.rs + p * a.cs] & b.data[p * b.rs + j * b.cs];
            c[i * n + j] = acc;
        }
}

static void naive_mm(gd_dtype dt, int64_t m, int64_t n, int64_t k, mat_ref a, mat_ref b,
                     char *c, double alpha, double beta) {
    switch (dt) {
    case GD_FLOAT32:
        naive_f32(m, n, k, a, b, (float *)c, alpha, beta);
        break;
    case GD_FLOAT64:
        naive_f64(m, n, k, a, b, (double *)c, alpha, beta);
        break;
    case GD_UINT8:
        naive_u8(m, n, k, a, b, (uint8_t *)c, alpha, beta);
        break;
    case GD_INT32:
        naive_i32(m, n, k, a, b, (int32_t *)c, alpha, beta);
        break;
    case GD_INT64:
        naive_i64(m, n, k, a, b, (int64_t *)c, alpha, beta);
        break;
    default:
        naive_b(m, n, k, a, b, (uint8_t *)c);
    }
}

/* BLAS layout of an operand of `rows` x `cols`, or false if it has no unit
 * stride and must be copied first. */
static bool blas_layout(mat_ref x, int64_t rows, int64_t cols, enum CBLAS_TRANSPOSE *tr,
                        int64_t *ld) {
    if (x.cs == 1 || cols == 1) {
        *tr = CblasNoTrans;
        *ld = rows == 1 ? (cols > 1 ? cols : 1) : x.rs;
        return *ld >= cols && *ld >= 1;
    }
    if (x.rs == 1 || rows == 1) {
        *tr = CblasTrans;
        *ld = x.cs;
        return *ld >= rows && *ld >= 1;
    }
    return false;
}

/* Copies a strided matrix into a new row-major tensor the caller releases
 * (allocated like every tensor, so its size is checked). */
gd_status gd_mat_pack(gd_dtype dt, mat_ref x, int64_t rows, int64_t cols,
                      gd_tensor **buf, mat_ref *packed) {
    int64_t shape[2] = {rows, cols};
    size_t elsize = gd_dtype_size(dt);
    gd_status st = gd_empty(dt, 2, shape, buf);
    if (st)
        return st;
    char *to = gd_data_ptr(*buf);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            memcpy(to + (size_t)(i * cols + j) * elsize,
                   x.data + (size_t)(i * x.rs + j * x.cs) * elsize, elsize);
    packed->data = to;
    packed->rs = cols;
    packed->cs = 1;
    return GD_OK;
}

/* c (m x n) = a (m x 1) @ b (1 x n): the products alone. */
#define OUTER(T, m, n, a, b, c)                                                        \
    for (int64_t i = 0; i < (m); i++)                                                  \
        for (int64_t j = 0; j < (n); j++)                                              \
            ((T *)(c))[i * (n) + j] =                                                  \
                ((const T *)(a).data)[i * (a).rs] * ((const T *)(b).data)[j * (b).cs];

/* c (m x n, row-major) = beta * c + alpha * (a @ b), as BLAS gemm defines it:
 * with beta == 0, c's old contents (NaN included) are not read. */
gd_status gd_mm_2d(gd_dtype dt, int64_t m, int64_t n, int64_t k, mat_ref a, mat_ref b,
                   char *c, double alpha, double beta, bool naive) {
    const gd_mkl_blas *mk = gd_dtype_is_floating(dt) ? gd_mkl() : NULL;
    if (!naive && k == 1 && alpha == 1 && beta == 0 && gd_dtype_is_floating(dt)) {
        /* One term per sum, nothing added: each result is one rounded
         * product whatever the routine (BLAS's sign of zero included, where
         * a loop adding to 0 would give +0), so no call is needed. */
        void *lock = gd_loop_begin(m * n);
        if (dt == GD_FLOAT32) {
            OUTER(float, m, n, a, b, c)
        } else {
            OUTER(double, m, n, a, b, c)
        }
        gd_loop_end(lock);
        return GD_OK;
    }
    /* PyTorch calls MKL's gemm for every size; OpenBLAS's call costs more
     * than a small product. */
    if (naive || !gd_dtype_is_floating(dt) || k == 0 || m == 0 || n == 0 ||
        (!mk && m * n * k <= GD_SMALL_MATMUL)) {
        void *lock = gd_loop_begin(m * n * (k > 0 ? k : 1));
        naive_mm(dt, m, n, k, a, b, c, alpha, beta);
        gd_loop_end(lock);
        return GD_OK;
    }
    GD_CHECK(m < INT_MAX && n < INT_MAX && k < INT_MAX, GD_ERR_RUNTIME,
             "matmul: matrix too large for BLAS");
    if (mk)
        return gd_mkl_gemm(mk, dt, m, n, k, a, b, c, alpha, beta);
    gd_tensor *abuf = NULL, *bbuf = NULL;
    enum CBLAS_TRANSPOSE ta = CblasNoTrans, tb = CblasNoTrans;
    int64_t lda = 0, ldb = 0;
    gd_status st = GD_OK;
    if (!blas_layout(a, m, k, &ta, &lda)) {
        if ((st = gd_mat_pack(dt, a, m, k, &abuf, &a)))
            goto done;
        blas_layout(a, m, k, &ta, &lda);
    }
    if (!blas_layout(b, k, n, &tb, &ldb)) {
        if ((st = gd_mat_pack(dt, b, k, n, &bbuf, &b)))
            goto done;
        blas_layout(b, k, n, &tb, &ldb);
    }
    void *lock = gd_loop_begin(m * n * k);
    if (dt == GD_FLOAT32)
        scipy_cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, (float)alpha,
                          (const float *)a.data, (int)lda, (const float *)b.data,
                          (int)ldb, (float)beta, (float *)c, (int)n);
    else
        scipy_cblas_dgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, alpha,
                          (const double *)a.data, (int)lda, (const double *)b.data,
                          (int)ldb, beta, (double *)c, (int)n);
    gd_loop_end(lock);
done:
    gd_tensor_decref(abuf);
    gd_tensor_decref(bbuf);
    return st;
}

/* Can t's leading dims (all but the last) be viewed as one, as PyTorch asks
 * before it folds them into the rows of one matrix product? */
static bool foldable(int ndim, const int64_t *shape, const int64_t *strides,
                     int64_t numel) {
    if (numel == 0)
        return true;
    for (int i = 0; i < ndim - 2; i++)
        if (strides[i] != strides[i + 1] * shape[i + 1])
            return false;
    return true;
}

/* b's last two dims swapped (b.mT), as a shape and strides. */
static void swap_last(const gd_tensor *b, int64_t *shape, int64_t *strides) {
    memcpy(shape, b->shape, sizeof(int64_t) * (size_t)b->ndim);
    memcpy(strides, b->strides, sizeof(int64_t) * (size_t)b->ndim);
    shape[b->ndim - 2] = b->shape[b->ndim - 1];
    shape[b->ndim - 1] = b->shape[b->ndim - 2];
    strides[b->ndim - 2] = b->strides[b->ndim - 1];
    strides[b->ndim - 1] = b->strides[b->ndim - 2];
}

gd_matmul_plan gd_matmul_plan_for(const gd_tensor *a, const gd_tensor *b) {
    if (a->ndim <= 2 && b->ndim <= 2)
        return GD_MATMUL_DIRECT;
    /* torch's should_fold: the big operand's batch dims fold into the rows
     * of one mm or mv when the small operand requires grad (its gradient is
     * then one product, not a sum of a batch of them) or no copy is needed */
    if (a->ndim >= 3 && b->ndim <= 2)
        return gd_requires_grad(b) || foldable(a->ndim, a->shape, a->strides, a->numel)
                   ? GD_MATMUL_FOLD_A
                   : GD_MATMUL_BMM;
    if (b->ndim >= 3 && a->ndim <= 2) {
        int64_t sh[GD_MAX_DIMS], str[GD_MAX_DIMS];
        swap_last(b, sh, str);
        return gd_requires_grad(a) ||
                       (a->ndim == 1 && foldable(b->ndim, sh, str, b->numel))
                   ? GD_MATMUL_FOLD_B
                   : GD_MATMUL_BMM;
    }
    /* 3-D @ 3-D with different batches: a batch of one that requires grad is
     * squeezed first, and the product folds */
    if (a->ndim == 3 && b->ndim == 3 && a->shape[0] != b->shape[0]) {
        if (a->shape[0] == 1 && gd_requires_grad(a))
            return GD_MATMUL_SQUEEZE_A;
        if (b->shape[0] == 1 && gd_requires_grad(b))
            return GD_MATMUL_SQUEEZE_B;
    }
    return GD_MATMUL_BMM;
}

/* PyTorch computes a batched product by folding batch dims into rows (one mm)
 * or flattening them (one bmm over expanded inputs), and sizes its result in
 * that shape: the shape its size errors name. Checks the expanded inputs'
 * element counts and the result's byte size in that form. */
static gd_status check_result_size(const gd_tensor *a, const gd_tensor *b,
                                   gd_matmul_plan plan, int nbatch,
                                   const int64_t *batch, int64_t m, int64_t k,
                                   int64_t n, gd_dtype dt) {
    int64_t shape[GD_MAX_DIMS + 2], rows = 1, numel;
    size_t nbytes;
    int nd = 0;
    bool ok = true;
    gd_status st;
    for (int d = 0; d < nbatch; d++)
        ok &= !__builtin_mul_overflow(rows, batch[d], &rows);
    bool fold_a = plan == GD_MATMUL_FOLD_A || plan == GD_MATMUL_SQUEEZE_B,
         fold_b = plan == GD_MATMUL_FOLD_B || plan == GD_MATMUL_SQUEEZE_A;
    if (fold_a) {
        ok &= !__builtin_mul_overflow(rows, m, &shape[nd++]);
        if (b->ndim >= 2)
            shape[nd++] = n;
    } else if (fold_b) {
        ok &= !__builtin_mul_overflow(rows, n, &shape[nd++]);
        if (a->ndim >= 2)
            shape[nd++] = m;
    } else if (nbatch > 0) {
        /* both inputs are expanded to the full batch first */
        memcpy(shape, batch, sizeof(int64_t) * (size_t)nbatch);
        shape[nbatch] = m;
        shape[nbatch + 1] = k;
        if ((st = gd_shape_numel(nbatch + 2, shape, &numel)))
            return st;
        shape[nbatch] = k;
        shape[nbatch + 1] = n;
        if ((st = gd_shape_numel(nbatch + 2, shape, &numel)))
            return st;
        shape[nd++] = rows;
        shape[nd++] = m;
        shape[nd++] = n;
    } else {
        /* a vector times a matrix is computed as a 1-row matrix */
        if (a->ndim == 1 && b->ndim == 2)
            shape[nd++] = 1;
        if (a->ndim == 2)
            shape[nd++] = m;
        if (b->ndim == 2)
            shape[nd++] = n;
    }
    if (!ok)
        return GD_OK; /* the real result shape reports it */
    return gd_shape_nbytes(dt, nd, shape, &numel, &nbytes);
}

/* The batched product over broadcast batch dims, one 2-D product per matrix
 * (torch's bmm; with `aten_small`, the products below 400 multiply-adds in
 * the plain loop, as ATen's bmm sums them). */
gd_status gd_matmul_loop(const gd_tensor *a, const gd_tensor *b, int nbatch,
                         const int64_t *batch, int64_t m, int64_t k, int64_t n,
                         bool aten_small, gd_tensor *out) {
    bool a_vec = a->ndim == 1, b_vec = b->ndim == 1;
    int na = a_vec ? 0 : a->ndim - 2, nb = b_vec ? 0 : b->ndim - 2;
    bool small = aten_small && k * m * n < 400;
    int64_t nmat = 1;
    for (int d = 0; d < nbatch; d++)
        nmat *= batch[d];
    size_t elsize = gd_dtype_size(a->dtype);
    const char *abase = (const char *)a->storage->data, *bbase = b->storage->data;
    for (int64_t bi = 0; bi < nmat; bi++) {
        int64_t aoff = a->offset, boff = b->offset, rem = bi;
        for (int d = nbatch - 1; d >= 0; d--) {
            int64_t idx = rem % batch[d];
            rem /= batch[d];
            int da = d - (nbatch - na), db = d - (nbatch - nb);
            if (da >= 0 && a->shape[da] != 1)
                aoff += idx * a->strides[da];
            if (db >= 0 && b->shape[db] != 1)
                boff += idx * b->strides[db];
        }
        mat_ref ma = {abase + (size_t)aoff * elsize,
                      a_vec ? 0 : a->strides[a->ndim - 2], a->strides[a->ndim - 1]};
        mat_ref mb = {bbase + (size_t)boff * elsize,
                      b_vec ? b->strides[0] : b->strides[b->ndim - 2],
                      b_vec ? 0 : b->strides[b->ndim - 1]};
        char *c = gd_data_ptr(out) + (size_t)(bi * m * n) * elsize;
        gd_status st = gd_mm_2d(a->dtype, m, n, k, ma, mb, c, 1.0, 0.0, small);
        if (st)
            return st;
    }
    return GD_OK;
}

gd_status gd_matmul(const gd_tensor *a, const gd_tensor *b, gd_tensor **out) {
    return gd_matmul_planned(a, b, GD_MATMUL_AUTO, out);
}

gd_status gd_matmul_planned(const gd_tensor *a, const gd_tensor *b, gd_matmul_plan plan,
                            gd_tensor **out) {
    *out = NULL;
    GD_CHECK(
        a->ndim >= 1 && b->ndim >= 1, GD_ERR_RUNTIME,
        "both arguments to matmul need to be at least 1D, but they are %dD and %dD",
        a->ndim, b->ndim);
    if (a->dtype != b->dtype) { /* PyTorch's wording depends on the shapes */
        if (a->ndim == 1 && b->ndim == 1)
            return gd_error(
                GD_ERR_RUNTIME,
                "dot : expected both vectors to have same dtype, but found %s "
                "and %s",
                gd_dtype_scalar_name(a->dtype), gd_dtype_scalar_name(b->dtype));
        if (a->ndim == 2 && b->ndim == 1)
            return gd_error(
                GD_ERR_RUNTIME,
                "addmv input tensors must have the same dtype, but got %s, %s, "
                "and %s",
                gd_dtype_scalar_name(b->dtype), gd_dtype_scalar_name(a->dtype),
                gd_dtype_scalar_name(b->dtype));
        if (a->ndim <= 2 && b->ndim <= 2)
            return gd_error(
                GD_ERR_RUNTIME,
                "expected m1 and m2 to have the same dtype, but got: %s != %s",
                gd_dtype_cxx_name(a->dtype), gd_dtype_cxx_name(b->dtype));
        return gd_error(GD_ERR_RUNTIME, "expected scalar type %s but found %s",
                        gd_dtype_scalar_name(a->dtype), gd_dtype_scalar_name(b->dtype));
    }
    GD_CHECK(a->dtype != GD_BOOL, GD_ERR_NOTIMPL, "\"%s\" not implemented for 'Bool'",
             a->ndim == 1 && b->ndim == 1 ? "dot" : "addmm_impl_cpu_");
    bool a_vec = a->ndim == 1, b_vec = b->ndim == 1;
    int64_t m = a_vec ? 1 : a->shape[a->ndim - 2], k = a->shape[a->ndim - 1];
    int64_t kb = b_vec ? b->shape[0] : b->shape[b->ndim - 2];
    int64_t n = b_vec ? 1 : b->shape[b->ndim - 1];
    if (k != kb) {
        if (a_vec && b_vec)
            return gd_error(GD_ERR_RUNTIME,
                            "inconsistent tensor size, expected tensor [%lld] and src "
                            "[%lld] to have the same number of elements, but got %lld "
                            "and %lld elements respectively",
                            (long long)k, (long long)kb, (long long)k, (long long)kb);
        if (b_vec && a->ndim == 2)
            return gd_error(GD_ERR_RUNTIME,
                            "size mismatch, got input (%lld), mat (%lldx%lld), vec "
                            "(%lld)",
                            (long long)m, (long long)m, (long long)k, (long long)kb);
        if (a->ndim <= 2 && b->ndim <= 2)
            return gd_error(GD_ERR_RUNTIME,
                            "mat1 and mat2 shapes cannot be multiplied (%lldx%lld and "
                            "%lldx%lld)",
                            (long long)m, (long long)k, (long long)kb, (long long)n);
        return gd_error(
            GD_ERR_RUNTIME,
            "Expected size for first two dimensions of batch2 tensor to be: "
            "[%lld, %lld] but got: [%lld, %lld].",
            (long long)(a->ndim > 2 ? a->shape[0] : 1), (long long)k,
            (long long)(b->ndim > 2 ? b->shape[0] : 1), (long long)kb);
    }
    /* Batch dims broadcast like elementwise shapes. */
    int na = a_vec ? 0 : a->ndim - 2, nb = b_vec ? 0 : b->ndim - 2;
    int nbatch;
    int64_t batch[GD_MAX_DIMS];
    gd_status st = gd_broadcast_shapes(na, a->shape, nb, b->shape, &nbatch, batch);
    if (st)
        return st;
    int64_t out_shape[GD_MAX_DIMS];
    int out_ndim = nbatch;
    memcpy(out_shape, batch, sizeof(int64_t) * (size_t)nbatch);
    if (!a_vec)
        out_shape[out_ndim++] = m;
    if (!b_vec)
        out_shape[out_ndim++] = n;
    if (plan == GD_MATMUL_AUTO)
        plan = gd_matmul_plan_for(a, b);
    if ((st = check_result_size(a, b, plan, nbatch, batch, m, k, n, a->dtype)) ||
        (st = gd_empty(a->dtype, out_ndim, out_shape, out)))
        return st;
    const gd_mkl_blas *mk = gd_dtype_is_floating(a->dtype) ? gd_mkl() : NULL;
    if (mk && (*out)->numel > 0)
        st = gd_mkl_matmul(mk, a, b, plan, nbatch, batch, m, k, n, *out);
    else
        st = gd_matmul_loop(a, b, nbatch, batch, m, k, n, false, *out);
    if (st) {
        gd_tensor_decref(*out);
        *out = NULL;
        return st;
    }
    return GD_OK;
}

/* A number as an integer tensor's op takes it: truncated, as PyTorch converts
 * a Python float to an integral scalar. */
static gd_status integral_scalar(double *v) {
    GD_CHECK(*v == *v && *v > -9.3e18 && *v < 9.3e18, GD_ERR_RUNTIME,
             "value cannot be converted to type int64_t without overflow");
    *v = (double)(int64_t)*v;
    return GD_OK;
}

gd_status gd_addmm(const gd_tensor *self, const gd_tensor *mat1, const gd_tensor *mat2,
                   double beta, double alpha, gd_tensor **out) {
    *out = NULL;
    /* PyTorch's checks, in its order */
    GD_CHECK(mat1->ndim == 2, GD_ERR_RUNTIME, "mat1 must be a matrix, got %d-D tensor",
             mat1->ndim);
    GD_CHECK(mat2->ndim == 2, GD_ERR_RUNTIME, "mat2 must be a matrix, got %d-D tensor",
             mat2->ndim);
    GD_CHECK(self->dtype == mat2->dtype, GD_ERR_RUNTIME,
             "self and mat2 must have the same dtype, but got %s and %s",
             gd_dtype_scalar_name(self->dtype), gd_dtype_scalar_name(mat2->dtype));
    GD_CHECK(mat1->dtype == mat2->dtype, GD_ERR_RUNTIME,
             "mat1 and mat2 must have the same dtype, but got %s and %s",
             gd_dtype_scalar_name(mat1->dtype), gd_dtype_scalar_name(mat2->dtype));
    int64_t m = mat1->shape[0], k = mat1->shape[1], n = mat2->shape[1];
    GD_CHECK(k == mat2->shape[0], GD_ERR_RUNTIME,
             "mat1 and mat2 shapes cannot be multiplied (%lldx%lld and %lldx%lld)",
             (long long)m, (long long)k, (long long)mat2->shape[0], (long long)n);
    gd_dtype dt = mat1->dtype;
    int64_t shape[2] = {m, n};
    gd_tensor *bias = NULL;
    gd_status st = gd_expand(self, 2, shape, &bias);
    if (st)
        return st;
    if (dt == GD_BOOL)
        st = gd_error(GD_ERR_NOTIMPL, "\"addmm_impl_cpu_\" not implemented for 'Bool'");
    else if (!gd_dtype_is_floating(dt) && !(st = integral_scalar(&beta)))
        st = integral_scalar(&alpha);
    /* The result starts as the broadcast bias; gemm adds the product into it
     * (beta == 0: gemm never reads it, so NaN in self does not propagate). */
    if (st || (st = gd_empty(dt, 2, shape, out)) ||
        (beta != 0 && (st = gd_copy_(*out, bias))))
        goto done;
    mat_ref ma = {gd_data_ptr(mat1), mat1->strides[0], mat1->strides[1]};
    mat_ref mb = {gd_data_ptr(mat2), mat2->strides[0], mat2->strides[1]};
    st = gd_mm_2d(dt, m, n, k, ma, mb, gd_data_ptr(*out), alpha, beta, false);
done:
    gd_tensor_decref(bias);
    if (st) {
        gd_tensor_decref(*out);
        *out = NULL;
    }
    return st;
}

gd_status gd_matmul_reference(const gd_tensor *a, const gd_tensor *b, gd_tensor **out) {
    *out = NULL;
    GD_CHECK(a->ndim == 2 && b->ndim == 2 && a->shape[1] == b->shape[0] &&
                 a->dtype == b->dtype,
             GD_ERR_RUNTIME, "matmul_reference expects matching 2-D operands");
    int64_t shape[2] = {a->shape[0], b->shape[1]};
    gd_status st = gd_empty(a->dtype, 2, shape, out);
    if (st)
        return st;
    mat_ref ma = {gd_data_ptr(a), a->strides[0], a->strides[1]};
    mat_ref mb = {gd_data_ptr(b), b->strides[0], b->strides[1]};
    naive_mm(a->dtype, shape[0], shape[1], a->shape[1], ma, mb, gd_data_ptr(*out), 1.0,
             0.0);
    return GD_OK;
}
