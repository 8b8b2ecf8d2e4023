/* Intel MKL, loaded at run time where it is installed.
 *
 * PyTorch's x86-64 CPU build takes exp, log, tanh, sin, cos, tan and sqrt
 * (float32 and float64) from MKL's vector math library (at::vml, high
 * accuracy mode), and its matrix products, matrix-vector products and dot
 * products from MKL's BLAS. Those routines are not correctly rounded and
 * their algorithms are not published, so PyTorch's bits come only from the
 * same routines: measured, MKL 2024.2's results equal torch 2.13's for every
 * input tried, and for the dot products at torch's thread count only when
 * MKL runs on the same OpenMP threading (the GNU layer) with that count.
 *
 * The library is opened with dlopen, so gdlite builds and runs without it
 * (the kernels then compute their own results). */
#include "internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* MKL's constants (mkl_vml_defines.h, mkl_service.h, mkl_cblas.h). */
#define VML_HA 0x2LL
#define VML_FTZDAZ_OFF 0x140000LL
#define VML_ERRMODE_IGNORE 0x100LL
#define MKL_THREADING_SEQUENTIAL 1
#define MKL_THREADING_GNU 3
#define MKL_INTERFACE_LP64 0
#define MKL_DOMAIN_VML 3

typedef void (*vml_f32_fn)(int n, const float *a, float *y, long long mode);
typedef void (*vml_f64_fn)(int n, const double *a, double *y, long long mode);

/* The ops PyTorch sends to VML, and VML's names for them. */
enum { VML_EXP, VML_LN, VML_TANH, VML_SIN, VML_COS, VML_TAN, VML_SQRT, VML_OPS };
static const struct {
    gd_op op;
    const char *name;
} vml_names[VML_OPS] = {
    [VML_EXP] = {GD_OP_EXP, "Exp"},    [VML_LN] = {GD_OP_LOG, "Ln"},
    [VML_TANH] = {GD_OP_TANH, "Tanh"}, [VML_SIN] = {GD_OP_SIN, "Sin"},
    [VML_COS] = {GD_OP_COS, "Cos"},    [VML_TAN] = {GD_OP_TAN, "Tan"},
    [VML_SQRT] = {GD_OP_SQRT, "Sqrt"},
};

static struct {
    void *handle;
    vml_f32_fn vml_f32[VML_OPS];
    vml_f64_fn vml_f64[VML_OPS];
    gd_mkl_blas blas;
    int (*set_threading_layer)(int);
    int (*set_interface_layer)(int);
    void (*set_num_threads)(int);
    int (*domain_set_num_threads)(int, int);
} mkl;

static bool mkl_enabled;
static int mkl_threads = 1;
static bool serial_gemm_checked; /* on a CPU where the rule below was verified */

const gd_mkl_blas *gd_mkl(void) {
    return mkl_enabled ? &mkl.blas : NULL;
}

/* MKL splits a gemm across its threads by blocks of the result, and the sum
 * over k then runs as on one thread; only when the result has few blocks
 * (a dimension below 8) or k is long (from about 200 terms on Intel AVX-512)
 * does it split k too, which changes the bits. Measured with MKL 2024.2 on
 * an Intel AVX-512 CPU (24,344 products: shapes, the 4 layouts, float32 and
 * float64, at 2, 4, 8 and 16 threads; 4,304 more up to 64 threads): none
 * within the rule differs from one thread. So on such a CPU
 * a small product skips OpenMP's start-up and barrier (a few microseconds,
 * more than the product itself). Elsewhere MKL's kernels and splits differ,
 * and every product keeps torch's thread count. */
bool gd_mkl_gemm_serial(int64_t m, int64_t n, int64_t k) {
    return serial_gemm_checked && mkl_threads > 1 && m >= 8 && n >= 8 && k <= 64 &&
           m * n * k <= ((int64_t)1 << 19);
}

bool gd_mkl_active(void) {
    return mkl_enabled;
}

bool gd_mkl_loaded(void) {
    return mkl.handle != NULL;
}

void gd_mkl_enable(bool enable) {
    mkl_enabled = enable && mkl.handle;
}

/* After fork() the child has none of the parent's OpenMP threads, and GNU
 * libgomp may hang on its next parallel region: MKL runs on one thread there. */
static void mkl_after_fork_child(void) {
    if (mkl.set_num_threads && mkl_threads > 1)
        mkl.set_num_threads(1);
}

static void *symbol(const char *name, bool *missing) {
    void *p = dlsym(mkl.handle, name);
    if (!p)
        *missing = true;
    return p;
}

gd_status gd_mkl_load(const char *path) {
    GD_CHECK(!mkl.handle, GD_ERR_RUNTIME, "MKL is loaded already");
    mkl.handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    GD_CHECK(mkl.handle, GD_ERR_RUNTIME, "cannot load MKL: %s", dlerror());
    bool missing = false;
    char name[16];
    for (int i = 0; i < VML_OPS; i++) {
        snprintf(name, sizeof name, "vms%s", vml_names[i].name);
        *(void **)&mkl.vml_f32[i] = symbol(name, &missing);
        snprintf(name, sizeof name, "vmd%s", vml_names[i].name);
        *(void **)&mkl.vml_f64[i] = symbol(name, &missing);
    }
    *(void **)&mkl.blas.sgemm = symbol("cblas_sgemm", &missing);
    *(void **)&mkl.blas.dgemm = symbol("cblas_dgemm", &missing);
    *(void **)&mkl.blas.sgemv = symbol("cblas_sgemv", &missing);
    *(void **)&mkl.blas.dgemv = symbol("cblas_dgemv", &missing);
    *(void **)&mkl.blas.sdot = symbol("cblas_sdot", &missing);
    *(void **)&mkl.blas.ddot = symbol("cblas_ddot", &missing);
    *(void **)&mkl.blas.sgemm_batch = symbol("cblas_sgemm_batch", &missing);
    *(void **)&mkl.blas.dgemm_batch = symbol("cblas_dgemm_batch", &missing);
    *(void **)&mkl.set_threading_layer = symbol("MKL_Set_Threading_Layer", &missing);
    *(void **)&mkl.set_interface_layer = symbol("MKL_Set_Interface_Layer", &missing);
    *(void **)&mkl.set_num_threads = symbol("MKL_Set_Num_Threads", &missing);
    *(void **)&mkl.domain_set_num_threads =
        symbol("MKL_Domain_Set_Num_Threads", &missing);
    *(void **)&mkl.blas.set_num_threads_local =
        symbol("MKL_Set_Num_Threads_Local", &missing);
    if (missing) {
        dlclose(mkl.handle);
        memset(&mkl, 0, sizeof mkl);
        return gd_error(GD_ERR_RUNTIME, "cannot load MKL: %s lacks a routine", path);
    }
    /* These two come before any other MKL call. MKL's threads are OpenMP's
     * (GNU libgomp, which MKL's GNU layer needs and only then opens): with
     * several threads, as PyTorch's own MKL runs. MKL exits the process if
     * a layer's library cannot be opened, so libgomp is tried first. */
    mkl_threads = gd_torch_threads();
    if (mkl_threads > 1) {
        void *gomp = dlopen("libgomp.so.1", RTLD_NOW | RTLD_LOCAL);
        if (gomp)
            dlclose(gomp);
        else
            mkl_threads = 1;
    }
    mkl.set_interface_layer(MKL_INTERFACE_LP64);
    mkl.set_threading_layer(mkl_threads > 1 ? MKL_THREADING_GNU
                                            : MKL_THREADING_SEQUENTIAL);
    mkl.set_num_threads(mkl_threads);
    /* Vector math runs on the caller's thread: the core splits it across its
     * pool in ATen's chunks, as ATen calls it inside its parallel region. */
    mkl.domain_set_num_threads(1, MKL_DOMAIN_VML);
    __builtin_cpu_init();
    serial_gemm_checked =
        __builtin_cpu_is("intel") && __builtin_cpu_supports("avx512f");
    pthread_atfork(NULL, NULL, mkl_after_fork_child);
    mkl_enabled = true;
    return GD_OK;
}

/* Runs VML's op over n elements as ATen's loop does: contiguous runs in one
 * call; strided ones through a buffer of 8 KiB, a piece at a time. VML takes
 * an int count, so longer runs are cut (elementwise: the cut changes nothing). */
#define VML_LOOP(name, T, table, slot)                                                 \
    static void name(char **d, const int64_t *s, int64_t n, void *ctx) {               \
        (void)ctx;                                                                     \
        const long long mode = VML_HA | VML_FTZDAZ_OFF | VML_ERRMODE_IGNORE;           \
        T *o = (T *)d[0];                                                              \
        const T *x = (const T *)d[1];                                                  \
        int64_t so = s[0] / (int64_t)sizeof(T), sx = s[1] / (int64_t)sizeof(T);        \
        if (so == 1 && sx == 1) {                                                      \
            for (int64_t i = 0; i < n; i += INT32_MAX)                                 \
                mkl.table[slot](n - i < INT32_MAX ? (int)(n - i) : INT32_MAX, x + i,   \
                                o + i, mode);                                          \
            return;                                                                    \
        }                                                                              \
        enum { WIDTH = 8192 / sizeof(T) };                                             \
        T buf[WIDTH];                                                                  \
        for (int64_t i = 0; i < n; i += WIDTH) {                                       \
            int w = n - i < WIDTH ? (int)(n - i) : WIDTH;                              \
            const T *in = sx == 1 ? x + i : buf;                                       \
            T *out = so == 1 ? o + i : buf;                                            \
            if (sx != 1)                                                               \
                for (int j = 0; j < w; j++)                                            \
                    buf[j] = x[(i + j) * sx];                                          \
            mkl.table[slot](w, in, out, mode);                                         \
            if (so != 1)                                                               \
                for (int j = 0; j < w; j++)                                            \
                    o[(i + j) * so] = buf[j];                                          \
        }                                                                              \
    }

#define VML_LOOPS(k)                                                                   \
    VML_LOOP(vml_f32_##k, float, vml_f32, k)                                           \
    VML_LOOP(vml_f64_##k, double, vml_f64, k)
VML_LOOPS(VML_EXP)
VML_LOOPS(VML_LN)
VML_LOOPS(VML_TANH)
VML_LOOPS(VML_SIN)
VML_LOOPS(VML_COS)
VML_LOOPS(VML_TAN)
VML_LOOPS(VML_SQRT)

#define VML_PAIR(k) [k] = {vml_f32_##k, vml_f64_##k}
static const gd_loop_fn vml_loops[VML_OPS][2] = {
    VML_PAIR(VML_EXP), VML_PAIR(VML_LN),  VML_PAIR(VML_TANH), VML_PAIR(VML_SIN),
    VML_PAIR(VML_COS), VML_PAIR(VML_TAN), VML_PAIR(VML_SQRT),
};

gd_loop_fn gd_mkl_vml_loop(gd_op op, gd_dtype dtype) {
    if (!mkl_enabled || (dtype != GD_FLOAT32 && dtype != GD_FLOAT64))
        return NULL;
    for (int i = 0; i < VML_OPS; i++)
        if (vml_names[i].op == op)
            return vml_loops[i][dtype == GD_FLOAT64];
    return NULL;
}

void gd_mkl_sqrt_f32(float *o, const float *x, int64_t n) {
    char *d[2] = {(char *)o, (char *)x};
    int64_t s[2] = {sizeof(float), sizeof(float)};
    vml_f32_VML_SQRT(d, s, n, NULL);
}

void gd_mkl_sqrt_f64(double *o, const double *x, int64_t n) {
    char *d[2] = {(char *)o, (char *)x};
    int64_t s[2] = {sizeof(double), sizeof(double)};
    vml_f64_VML_SQRT(d, s, n, NULL);
}
