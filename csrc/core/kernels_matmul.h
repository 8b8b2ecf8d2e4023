/* What the matrix-product kernels share (kernels_matmul.c: shapes, the plain
 * loop and OpenBLAS; kernels_matmul_mkl.c: PyTorch's steps through MKL). */
#ifndef GD_KERNELS_MATMUL_H
#define GD_KERNELS_MATMUL_H

#include "internal.h"

/* One matrix operand: element (i, j) at data + i*rs + j*cs (in elements). */
typedef struct {
    const char *data;
    int64_t rs, cs;
} mat_ref;

/* Copies a strided rows x cols matrix into a new row-major tensor *buf (the
 * caller releases it); *packed refers to it. */
gd_status gd_mat_pack(gd_dtype dt, mat_ref x, int64_t rows, int64_t cols,
                      gd_tensor **buf, mat_ref *packed);
/* c (m x n, row-major) = beta * c + alpha * (a @ b): MKL's gemm as ATen calls
 * it, else OpenBLAS, or (`naive`, integers, small without MKL) the plain loop. */
gd_status gd_mm_2d(gd_dtype dt, int64_t m, int64_t n, int64_t k, mat_ref a, mat_ref b,
                   char *c, double alpha, double beta, bool naive);
/* The batched product, one 2-D product per matrix of the broadcast batch. */
gd_status gd_matmul_loop(const gd_tensor *a, const gd_tensor *b, int nbatch,
                         const int64_t *batch, int64_t m, int64_t k, int64_t n,
                         bool aten_small, gd_tensor *out);
/* MKL's gemm, called as ATen's addmm_impl_cpu_ calls it. */
gd_status gd_mkl_gemm(const gd_mkl_blas *mk, gd_dtype dt, int64_t M, int64_t N,
                      int64_t K, mat_ref m1, mat_ref m2, char *c, double alpha,
                      double beta);
/* torch.matmul of floating tensors with MKL, step by step as PyTorch's. */
gd_status gd_mkl_matmul(const gd_mkl_blas *mk, const gd_tensor *a, const gd_tensor *b,
                        gd_matmul_plan plan, int nbatch, const int64_t *batch,
                        int64_t m, int64_t k, int64_t n, gd_tensor *out);

#endif
