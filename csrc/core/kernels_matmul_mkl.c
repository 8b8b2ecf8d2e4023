/* Matrix products with Intel MKL, as PyTorch computes them: its decomposition
 * of matmul (dot, mv, mm, folded batches, bmm) and, for each step, the BLAS
 * routine, operand order, transpose flags and leading dims ATen passes, which
 * decide MKL's kernels and so the bits. */
#include "kernels_matmul.h"

#include <cblas.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* cpublas's normalize_last_dims: the leading dims of size-1 matrices, as
 * ATen sets them before it calls BLAS (idempotent). */
static void normalize_last_dims(bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                                int64_t *lda, int64_t *ldb, int64_t *ldc) {
    if (n == 1)
        *ldc = m;
    if (ta ? m == 1 : k == 1)
        *lda = ta ? k : m;
    if (tb ? k == 1 : n == 1)
        *ldb = tb ? n : k;
}

/* cpublas::gemm as ATen calls it with MKL: the leading dims normalised, then
 * MKL's column-major gemm. The caller has checked the sizes fit in ints. */
static void cpublas_gemm(const gd_mkl_blas *mk, gd_dtype dt, bool ta, bool tb,
                         int64_t m, int64_t n, int64_t k, double alpha, const void *a,
                         int64_t lda, const void *b, int64_t ldb, double beta, void *c,
                         int64_t ldc) {
    normalize_last_dims(ta, tb, m, n, k, &lda, &ldb, &ldc);
    int fa = ta ? CblasTrans : CblasNoTrans, fb = tb ? CblasTrans : CblasNoTrans;
    void *lock = gd_loop_begin(m * n * k);
    bool serial = gd_mkl_gemm_serial(m, n, k);
    int threads = serial ? mk->set_num_threads_local(1) : 0;
    if (dt == GD_FLOAT32)
        mk->sgemm(CblasColMajor, fa, fb, (int)m, (int)n, (int)k, (float)alpha, a,
                  (int)lda, b, (int)ldb, (float)beta, c, (int)ldc);
    else
        mk->dgemm(CblasColMajor, fa, fb, (int)m, (int)n, (int)k, alpha, a, (int)lda, b,
                  (int)ldb, beta, c, (int)ldc);
    if (serial)
        mk->set_num_threads_local(threads);
    gd_loop_end(lock);
}

/* MKL's gemm for c (M x N, row-major) = beta c + alpha m1 @ m2, called as
 * ATen's addmm_impl_cpu_ calls BLAS (column-major): c taken transposed when
 * N > 1 (the operands then swap), each operand as it lies if its layout
 * allows, else a row-major copy; then cpublas's normalisation of the leading
 * dims of size-1 matrices. The transpose flags decide MKL's kernels, so they
 * decide the bits. */
gd_status gd_mkl_gemm(const gd_mkl_blas *mk, gd_dtype dt, int64_t M, int64_t N,
                      int64_t K, mat_ref m1, mat_ref m2, char *c, double alpha,
                      double beta) {
    bool tc = N > 1;
    int64_t m = tc ? N : M, n = tc ? M : N, k = K;
    mat_ref x[2] = {tc ? m2 : m1, tc ? m1 : m2}; /* ATen's a and b */
    int64_t rows[2] = {tc ? K : M, tc ? M : K}, cols[2] = {tc ? N : K, tc ? K : N};
    int64_t need[2][2] = {{m, k},
                          {k, n}}; /* lda, ldb lower bounds: as is, transposed */
    bool trans[2];
    int64_t ld[2];
    gd_tensor *copy[2] = {NULL, NULL};
    gd_status st = GD_OK;
    for (int i = 0; i < 2; i++) {
        int64_t s0 = x[i].rs, s1 = x[i].cs; /* strides of the [rows, cols] operand */
        int64_t lo0 = need[i][0] > 1 ? need[i][0] : 1,
                lo1 = need[i][1] > 1 ? need[i][1] : 1;
        if ((tc ? s1 : s0) == 1 && (tc ? s0 : s1) >= lo0) {
            trans[i] = false;
        } else if ((tc ? s0 : s1) == 1 && (tc ? s1 : s0) >= lo1) {
            trans[i] = true;
        } else {
            if ((st = gd_mat_pack(dt, x[i], rows[i], cols[i], &copy[i], &x[i])))
                goto done;
            trans[i] = !tc;
        }
        ld[i] = trans[i] == tc ? x[i].cs : x[i].rs;
    }
    cpublas_gemm(mk, dt, trans[0], trans[1], m, n, k, alpha, x[0].data, ld[0],
                 x[1].data, ld[1], beta, c, tc ? N : 1);
done:
    gd_tensor_decref(copy[0]);
    gd_tensor_decref(copy[1]);
    return st;
}

/* ---- with MKL: PyTorch's decomposition, each step MKL's routine ---------- */

/* torch.dot: MKL's dot (a length-1 dot with unit increments, as ATen). */
static void mkl_dot(const gd_mkl_blas *mk, gd_dtype dt, int64_t k, const char *x,
                    int64_t incx, const char *y, int64_t incy, char *out) {
    if (k == 1)
        incx = incy = 1;
    if (dt == GD_FLOAT32)
        *(float *)out =
            mk->sdot((int)k, (const float *)x, (int)incx, (const float *)y, (int)incy);
    else
        *(double *)out = mk->ddot((int)k, (const double *)x, (int)incx,
                                  (const double *)y, (int)incy);
}

/* torch.mv (addmv with beta 0): MKL's gemv on the matrix as ATen hands it over:
 * column-major ('n'), row-major ('t'), else a row-major copy. A vector with
 * no positive stride takes ATen's own loop, which sums like naive_mm. */
static gd_status mkl_mv(const gd_mkl_blas *mk, gd_dtype dt, int64_t m, int64_t k,
                        mat_ref a, mat_ref x, char *y) {
    if (x.rs <= 0)
        return gd_mm_2d(dt, m, 1, k, a, x, y, 1.0, 0.0, true);
    gd_tensor *copy = NULL;
    int order = CblasColMajor, trans, rows, cols, lda;
    if (a.rs == 1 && (k == 1 || a.cs >= (m > 1 ? m : 1))) {
        trans = CblasNoTrans, rows = (int)m, cols = (int)k;
        lda = k == 1 ? (int)m : (int)a.cs;
    } else {
        if (!(a.cs == 1 && (m == 1 || a.rs >= (k > 1 ? k : 1)))) {
            gd_status st = gd_mat_pack(dt, a, m, k, &copy, &a);
            if (st)
                return st;
        }
        trans = CblasTrans, rows = (int)k, cols = (int)m;
        lda = m == 1 ? (int)k : (int)a.rs;
    }
    void *lock = gd_loop_begin(m * k);
    if (dt == GD_FLOAT32)
        mk->sgemv(order, trans, rows, cols, 1.0f, (const float *)a.data, lda,
                  (const float *)x.data, (int)x.rs, 0.0f, (float *)y, 1);
    else
        mk->dgemv(order, trans, rows, cols, 1.0, (const double *)a.data, lda,
                  (const double *)x.data, (int)x.rs, 0.0, (double *)y, 1);
    gd_loop_end(lock);
    gd_tensor_decref(copy);
    return GD_OK;
}

/* One folded product: rows x k matrix `a` times b (a k-vector when n is 0,
 * else k x n) into c, as torch's mv or mm. */
static gd_status mkl_folded(const gd_mkl_blas *mk, gd_dtype dt, int64_t rows, int64_t k,
                            int64_t n, mat_ref a, mat_ref b, char *c) {
    if (n == 0)
        return mkl_mv(mk, dt, rows, k, a, b, c);
    return gd_mm_2d(dt, rows, n, k, a, b, c, 1.0, 0.0, false);
}

/* An operand's batch dims folded into `rows` rows, as torch's
 * reshape(rows, cols) gives them: a view where one exists, else a contiguous
 * copy (*folded, released by the caller). */
static gd_status fold_rows(const gd_tensor *t, int64_t rows, gd_tensor **folded,
                           mat_ref *x) {
    int64_t shape[2] = {rows, t->shape[t->ndim - 1]};
    gd_status st = gd_reshape(t, 2, shape, folded);
    if (!st)
        *x = (mat_ref){gd_data_ptr(*folded), (*folded)->strides[0],
                       (*folded)->strides[1]};
    return st;
}

/* An operand of torch's bmm path: t.expand(batch + (rows, cols)) reshaped to
 * (B, rows, cols), a view where possible, else a contiguous copy; a vector
 * right operand as (B, k) with a last dim of size 1 (unsqueeze(2)). */
static gd_status bmm_operand(const gd_tensor *t, int nbatch, const int64_t *batch,
                             int64_t nmat, int64_t rows, int64_t cols, bool vector,
                             gd_tensor **out) {
    int64_t shape[GD_MAX_DIMS + 2];
    gd_tensor *expanded = NULL, *flat = NULL;
    memcpy(shape, batch, sizeof(int64_t) * (size_t)nbatch);
    int nd = nbatch;
    shape[nd++] = rows;
    if (!vector)
        shape[nd++] = cols;
    int64_t flat_shape[3] = {nmat, rows, cols};
    gd_status st = gd_expand(t, nd, shape, &expanded);
    if (!st)
        st = gd_reshape(expanded, vector ? 2 : 3, flat_shape, vector ? &flat : out);
    if (!st && vector) {
        int64_t col_shape[3] = {nmat, rows, 1},
                strides[3] = {flat->strides[0], flat->strides[1], 1};
        st = gd_as_strided(flat, 3, col_shape, strides, flat->offset, out);
    }
    gd_tensor_decref(flat);
    gd_tensor_decref(expanded);
    return st;
}

/* Every matrix of a (B, rows, cols) operand row- or column-major (ATen's
 * batch_items_contiguous_or_transposed); a size-1 dim's stride is free. */
static bool items_dense(const gd_tensor *t) {
    const int64_t *sz = t->shape, *st = t->strides;
    return (st[2] == 1 && (sz[1] == 1 || st[1] >= sz[2])) ||
           (st[1] == 1 && (sz[2] == 1 || st[2] >= sz[1]));
}

static bool items_transposed(const gd_tensor *t) {
    return t->strides[1] == 1 && t->strides[2] >= t->shape[1];
}

/* torch's bmm on (B, M, K) @ (B, K, N) into c (B, M, N, contiguous):
 * below 400 multiply-adds per matrix ATen's plain loop; else, if every matrix
 * is row- or column-major, MKL's batch gemm called as baddbmm_with_gemm_
 * calls it (operands swapped for BLAS's column-major view, then cpublas's
 * leading-dim normalisation; one matrix: plain gemm); else one addmm per
 * matrix. */
static gd_status aten_bmm(const gd_mkl_blas *mk, const gd_tensor *a3,
                          const gd_tensor *b3, char *c) {
    gd_dtype dt = a3->dtype;
    int64_t nmat = a3->shape[0], M = a3->shape[1], K = a3->shape[2], N = b3->shape[2];
    size_t elsize = gd_dtype_size(dt);
    const char *pa = gd_data_ptr(a3), *pb = gd_data_ptr(b3);
    bool small = K * M * N < 400;
    if (small || !items_dense(a3) || !items_dense(b3)) {
        for (int64_t i = 0; i < nmat; i++) {
            mat_ref ma = {pa + (size_t)(i * a3->strides[0]) * elsize, a3->strides[1],
                          a3->strides[2]};
            mat_ref mb = {pb + (size_t)(i * b3->strides[0]) * elsize, b3->strides[1],
                          b3->strides[2]};
            gd_status st = gd_mm_2d(dt, M, N, K, ma, mb,
                                    c + (size_t)(i * M * N) * elsize, 1.0, 0.0, small);
            if (st)
                return st;
        }
        return GD_OK;
    }
    bool ta = items_transposed(b3), tb = items_transposed(a3);
    int64_t m = N, n = M, k = K;
    int64_t lda = b3->strides[ta ? 2 : 1], ldb = a3->strides[tb ? 2 : 1], ldc = N;
    normalize_last_dims(ta, tb, m, n, k, &lda, &ldb, &ldc);
    bool blas_ok = lda < INT_MAX && ldb < INT_MAX && ldc < INT_MAX &&
                   lda >= (ta ? k : m) && lda >= 1 && ldb >= (tb ? n : k) && ldb >= 1 &&
                   ldc >= m && ldc >= 1 && nmat < INT_MAX;
    GD_CHECK(blas_ok, GD_ERR_RUNTIME, "matmul: batch too large for BLAS");
    if (nmat == 1) { /* gemm_batched_with_stride: one matrix is a plain gemm */
        cpublas_gemm(mk, dt, ta, tb, m, n, k, 1.0, pb, lda, pa, ldb, 0.0, c, ldc);
        return GD_OK;
    }
    const void **ptrs = malloc(sizeof(void *) * 3 * (size_t)nmat);
    GD_CHECK(ptrs, GD_ERR_NOMEM, "matmul: out of memory");
    for (int64_t i = 0; i < nmat; i++) {
        ptrs[i] = pb + (size_t)(i * b3->strides[0]) * elsize;
        ptrs[nmat + i] = pa + (size_t)(i * a3->strides[0]) * elsize;
        ptrs[2 * nmat + i] = c + (size_t)(i * M * N) * elsize;
    }
    int im = (int)m, in = (int)n, ik = (int)k, ilda = (int)lda, ildb = (int)ldb,
        ildc = (int)ldc, count = (int)nmat;
    int fa = ta ? CblasTrans : CblasNoTrans, fb = tb ? CblasTrans : CblasNoTrans;
    void *lock = gd_loop_begin(nmat * m * n * k);
    if (dt == GD_FLOAT32) {
        const float one = 1.0f, zero = 0.0f;
        mk->sgemm_batch(CblasColMajor, &fa, &fb, &im, &in, &ik, &one,
                        (const float **)ptrs, &ilda, (const float **)ptrs + nmat, &ildb,
                        &zero, (float **)(ptrs + 2 * nmat), &ildc, 1, &count);
    } else {
        const double one = 1.0, zero = 0.0;
        mk->dgemm_batch(CblasColMajor, &fa, &fb, &im, &in, &ik, &one,
                        (const double **)ptrs, &ilda, (const double **)ptrs + nmat,
                        &ildb, &zero, (double **)(ptrs + 2 * nmat), &ildc, 1, &count);
    }
    gd_loop_end(lock);
    free(ptrs);
    return GD_OK;
}

/* torch.matmul's bmm path: both operands expanded to the broadcast batch and
 * flattened to 3-D, then bmm. */
static gd_status mkl_bmm_path(const gd_mkl_blas *mk, const gd_tensor *a,
                              const gd_tensor *b, int nbatch, const int64_t *batch,
                              int64_t nmat, int64_t m, int64_t k, int64_t n,
                              gd_tensor *out) {
    gd_tensor *a3 = NULL, *b3 = NULL;
    gd_status st = bmm_operand(a, nbatch, batch, nmat, m, k, false, &a3);
    if (!st)
        st = bmm_operand(b, nbatch, batch, nmat, k, n, b->ndim == 1, &b3);
    if (!st)
        st = aten_bmm(mk, a3, b3, gd_data_ptr(out));
    gd_tensor_decref(a3);
    gd_tensor_decref(b3);
    return st;
}

/* torch.matmul on floating tensors, as PyTorch decomposes it (dot, mv, mm;
 * batch dims folded into one mm or mv; else bmm, whose products below 400
 * multiply-adds ATen sums in its own loop) with MKL for each step. */
gd_status gd_mkl_matmul(const gd_mkl_blas *mk, const gd_tensor *a, const gd_tensor *b,
                        gd_matmul_plan plan, int nbatch, const int64_t *batch,
                        int64_t m, int64_t k, int64_t n, gd_tensor *out) {
    gd_dtype dt = a->dtype;
    bool fold_a = plan == GD_MATMUL_FOLD_A || plan == GD_MATMUL_SQUEEZE_B,
         fold_b = plan == GD_MATMUL_FOLD_B || plan == GD_MATMUL_SQUEEZE_A;
    char *c = gd_data_ptr(out);
    gd_tensor *folded = NULL, *view = NULL, *tmp = NULL, *tmp_t = NULL,
              *squeezed = NULL;
    gd_status st = GD_OK;
    int64_t rows = 1;
    for (int d = 0; d < nbatch; d++)
        rows *= batch[d];
    if (plan == GD_MATMUL_SQUEEZE_A || plan == GD_MATMUL_SQUEEZE_B) {
        int64_t first = 0;
        if ((st =
                 gd_squeeze(plan == GD_MATMUL_SQUEEZE_A ? a : b, 1, &first, &squeezed)))
            return st;
        if (plan == GD_MATMUL_SQUEEZE_A)
            a = squeezed;
        else
            b = squeezed;
    }
    /* Beyond MKL's ints, or empty sums (zeros, which MKL's gemv leaves
     * unwritten for an empty matrix): the plain products. */
    if (rows * (m > n ? m : n) >= INT_MAX || k >= INT_MAX || k == 0) {
        st = gd_matmul_loop(a, b, nbatch, batch, m, k, n, false, out);
        goto done;
    }
    if (fold_a) { /* a's rows (batch, i) times b */
        mat_ref ma,
            mb = {gd_data_ptr(b), b->strides[0], b->ndim == 2 ? b->strides[1] : 0};
        if (!(st = fold_rows(a, rows * m, &folded, &ma)))
            st = mkl_folded(mk, dt, rows * m, k, b->ndim == 2 ? n : 0, ma, mb, c);
    } else if (fold_b) { /* b.mT's rows (batch, j) times a (or a.t()) */
        mat_ref mt, ma = {gd_data_ptr(a), a->ndim == 2 ? a->strides[1] : a->strides[0],
                          a->ndim == 2 ? a->strides[0] : 0};
        if ((st = gd_transpose(b, b->ndim - 2, b->ndim - 1, &view)) ||
            (st = fold_rows(view, rows * n, &folded, &mt)))
            goto done;
        if (a->ndim == 1) {
            st = mkl_folded(mk, dt, rows * n, k, 0, mt, ma, c);
        } else { /* (b.mT @ a.t()).mT, made contiguous */
            int64_t shape[GD_MAX_DIMS];
            int nd = out->ndim;
            memcpy(shape, out->shape, sizeof(int64_t) * (size_t)nd);
            shape[nd - 2] = n;
            shape[nd - 1] = m;
            if (!(st = gd_empty(dt, nd, shape, &tmp)) &&
                !(st = mkl_folded(mk, dt, rows * n, k, m, mt, ma, gd_data_ptr(tmp))) &&
                !(st = gd_transpose(tmp, nd - 2, nd - 1, &tmp_t)))
                st = gd_copy_(out, tmp_t);
        }
    } else if (nbatch == 0) {
        /* a vector is a.unsqueeze(0): its row stride k times its stride */
        mat_ref ma = {gd_data_ptr(a), a->ndim == 2 ? a->strides[0] : k * a->strides[0],
                      a->strides[a->ndim - 1]};
        mat_ref mb = {gd_data_ptr(b), b->strides[0], b->ndim == 2 ? b->strides[1] : 0};
        if (a->ndim == 1 && b->ndim == 1) {
            void *lock = gd_loop_begin(k);
            mkl_dot(mk, dt, k, ma.data, ma.cs, mb.data, mb.rs, c);
            gd_loop_end(lock);
        } else if (b->ndim == 1)
            st = mkl_mv(mk, dt, m, k, ma, mb, c);
        else
            st = gd_mm_2d(dt, m, n, k, ma, mb, c, 1.0, 0.0, false);
    } else {
        st = mkl_bmm_path(mk, a, b, nbatch, batch, rows, m, k, n, out);
    }
done:
    gd_tensor_decref(tmp_t);
    gd_tensor_decref(tmp);
    gd_tensor_decref(folded);
    gd_tensor_decref(view);
    gd_tensor_decref(squeezed);
    return st;
}
