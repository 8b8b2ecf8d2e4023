/* The ops backward rules and the engine compute with, in their recording
 * forms: each runs the same kernel as the plain function (gd_binary,
 * gd_reshape, ...) through gd_call, so it records a node exactly when grad
 * mode is on and an operand requires grad. Backward runs with grad mode off
 * unless create_graph asked for a graph of the gradients; then these calls
 * build it, and a gradient can be differentiated again. With grad mode off
 * the common ones call their kernel directly (first-order backward pays
 * nothing for the graph forms). */
#include "internal.h"

#include <string.h>

static gd_status call1(gd_op op, const gd_tensor *a, const gd_op_args *args,
                       gd_tensor **out) {
    gd_tensor *in[1] = {(gd_tensor *)a};
    return gd_call(op, 1, in, args, out);
}

static void set_dims(gd_op_args *args, int n, const int64_t *dims) {
    args->ndims = n;
    if (n > 0)
        memcpy(args->dims, dims, sizeof(int64_t) * (size_t)n);
}

gd_status gd_g_binary_as(gd_op op, const gd_tensor *a, const gd_tensor *b,
                         gd_decomposition name, gd_tensor **out) {
    if (!gd_grad_enabled()) /* a first-order backward: the kernel alone */
        return gd_binary(op, a, b, gd_promote_types(a->dtype, b->dtype), out);
    gd_op_args args;
    gd_op_args_init(&args);
    args.dtype = gd_promote_types(a->dtype, b->dtype);
    args.decomposition = name;
    gd_tensor *in[2] = {(gd_tensor *)a, (gd_tensor *)b};
    return gd_call(op, 2, in, &args, out);
}

gd_status gd_g_unary(gd_op op, const gd_tensor *a, gd_tensor **out) {
    if (!gd_grad_enabled())
        return gd_unary(op, a, out);
    return call1(op, a, NULL, out);
}

gd_status gd_g_reduce(gd_op op, const gd_tensor *a, int ndims, const int64_t *dims,
                      bool keepdim, gd_tensor **out) {
    if (!gd_grad_enabled())
        return gd_reduce(op, a, ndims, dims, keepdim, 0.0, out);
    gd_op_args args;
    gd_op_args_init(&args);
    set_dims(&args, ndims, dims);
    args.keepdim = keepdim;
    return call1(op, a, &args, out);
}

gd_status gd_g_reshape(const gd_tensor *a, int ndim, const int64_t *shape,
                       gd_tensor **out) {
    if (!gd_grad_enabled())
        return gd_reshape(a, ndim, shape, out);
    gd_op_args args;
    gd_op_args_init(&args);
    set_dims(&args, ndim, shape);
    args.i[0] = 1; /* reshape: a copy when no view fits */
    return call1(GD_OP_VIEW, a, &args, out);
}

gd_status gd_g_expand(const gd_tensor *a, int ndim, const int64_t *shape,
                      gd_tensor **out) {
    if (!gd_grad_enabled())
        return gd_expand(a, ndim, shape, out);
    gd_op_args args;
    gd_op_args_init(&args);
    set_dims(&args, ndim, shape);
    return call1(GD_OP_EXPAND, a, &args, out);
}

gd_status gd_g_transpose(const gd_tensor *a, int64_t d0, int64_t d1, gd_tensor **out) {
    if (!gd_grad_enabled())
        return gd_transpose(a, d0, d1, out);
    gd_op_args args;
    gd_op_args_init(&args);
    args.i[0] = d0;
    args.i[1] = d1;
    return call1(GD_OP_TRANSPOSE, a, &args, out);
}

gd_status gd_g_permute(const gd_tensor *a, int ndim, const int64_t *dims,
                       gd_tensor **out) {
    gd_op_args args;
    gd_op_args_init(&args);
    set_dims(&args, ndim, dims);
    return call1(GD_OP_PERMUTE, a, &args, out);
}

gd_status gd_g_unsqueeze(const gd_tensor *a, int64_t dim, gd_tensor **out) {
    if (!gd_grad_enabled())
        return gd_unsqueeze(a, dim, out);
    gd_op_args args;
    gd_op_args_init(&args);
    args.i[0] = dim;
    return call1(GD_OP_UNSQUEEZE, a, &args, out);
}

gd_status gd_g_squeeze(const gd_tensor *a, int64_t dim, gd_tensor **out) {
    gd_op_args args;
    gd_op_args_init(&args);
    set_dims(&args, 1, &dim);
    return call1(GD_OP_SQUEEZE, a, &args, out);
}

gd_status gd_g_select(const gd_tensor *a, int64_t dim, int64_t index, gd_tensor **out) {
    gd_op_args args;
    gd_op_args_init(&args);
    args.i[0] = dim;
    args.i[1] = index;
    return call1(GD_OP_SELECT, a, &args, out);
}

gd_status gd_g_slice(const gd_tensor *a, int64_t dim, int64_t start, int64_t stop,
                     int64_t step, gd_tensor **out) {
    gd_op_args args;
    gd_op_args_init(&args);
    args.i[0] = dim;
    args.i[1] = start;
    args.i[2] = stop;
    args.i[3] = step;
    return call1(GD_OP_SLICE, a, &args, out);
}

gd_status gd_g_matmul(const gd_tensor *a, const gd_tensor *b, gd_tensor **out) {
    if (!gd_grad_enabled())
        return gd_matmul(a, b, out);
    gd_tensor *in[2] = {(gd_tensor *)a, (gd_tensor *)b};
    return gd_call(GD_OP_MATMUL, 2, in, NULL, out);
}

gd_status gd_g_where(const gd_tensor *cond, const gd_tensor *a, const gd_tensor *b,
                     gd_dtype common, gd_tensor **out) {
    if (!gd_grad_enabled())
        return gd_where(cond, a, b, common, out);
    gd_op_args args;
    gd_op_args_init(&args);
    args.dtype = common;
    gd_tensor *in[3] = {(gd_tensor *)cond, (gd_tensor *)a, (gd_tensor *)b};
    return gd_call(GD_OP_WHERE, 3, in, &args, out);
}

gd_status gd_g_gather(const gd_tensor *a, int64_t dim, const gd_tensor *index,
                      gd_tensor **out) {
    gd_op_args args;
    gd_op_args_init(&args);
    args.i[0] = dim;
    gd_tensor *in[2] = {(gd_tensor *)a, (gd_tensor *)index};
    return gd_call(GD_OP_GATHER, 2, in, &args, out);
}

gd_status gd_g_scatter_add(const gd_tensor *a, int64_t dim, const gd_tensor *index,
                           const gd_tensor *src, gd_tensor **out) {
    gd_op_args args;
    gd_op_args_init(&args);
    args.i[0] = dim;
    gd_tensor *in[3] = {(gd_tensor *)a, (gd_tensor *)src, (gd_tensor *)index};
    return gd_call(GD_OP_SCATTER_ADD, 3, in, &args, out);
}

gd_status gd_g_to_dtype(const gd_tensor *a, gd_dtype dtype, gd_tensor **out) {
    if (!gd_grad_enabled())
        return gd_to_dtype(a, dtype, out);
    gd_op_args args;
    gd_op_args_init(&args);
    args.dtype = dtype;
    return call1(GD_OP_TO_DTYPE, a, &args, out);
}

gd_status gd_g_clamp(const gd_tensor *a, double min, double max, gd_tensor **out) {
    gd_op_args args;
    gd_op_args_init(&args);
    args.has_min = args.has_max = true;
    args.min = min;
    args.max = max;
    return call1(GD_OP_CLAMP, a, &args, out);
}
