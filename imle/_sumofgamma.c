/*
 * Compiled CPU sampler for Sum-of-Gamma noise: out[j] = sum_{i=1..s} X_ij / i - log(s) / k with
 * X_ij ~ Gamma(1/k, 1), the form imle.noise.SumOfGammaNoiseDistribution documents.
 *
 * Why compiled: each draw needs a normal, a uniform, a log and an exp; as torch kernels that is
 * some fifteen passes over memory plus a compaction for the rejected tries, and the CPU spends
 * its time in kernel calls and memory traffic. Here a draw is a few register operations and the
 * output is the only memory written (no temporaries at all).
 *
 * Randomness: xoshiro256++ seeded per block of BLOCK elements with splitmix64(seed, block), so
 * the numbers depend on the seed alone, never on how many threads share the work. The Python
 * side draws the seed from the caller's torch.Generator. The GIL is released while sampling.
 *
 * Gamma draws: Marsaglia and Tsang (ACM TOMS 2000) with its squeeze, boosted below
 * concentration 1: Gamma(a) = Gamma(a + 1) * U ** (1 / a). Normals and exponentials: ziggurats.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define BLOCK 32

typedef struct {
    uint64_t s[4];
} Rng;

static inline uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t next_u64(Rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[0] + s[3], 23) + s[0];
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform on (0, 1): never 0, so log() is always finite. */
static inline double uniform(Rng *r) { return ((next_u64(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

/* Ziggurat normals (Marsaglia and Tsang, J. Stat. Softw. 2000), 128 layers. The layer index and
 * the value come from disjoint bits of one 64-bit draw (the original's shared bits correlate). */
static uint32_t zig_k[128];
static double zig_w[128], zig_f[128];
static const double ZIG_R = 3.442619855899;

static void zig_init(void) {
    const double m1 = 2147483648.0, v = 9.91256303526217e-3;
    double dn = ZIG_R, tn = dn, q = v / exp(-0.5 * dn * dn);
    zig_k[0] = (uint32_t)((dn / q) * m1);
    zig_k[1] = 0;
    zig_w[0] = q / m1;
    zig_w[127] = dn / m1;
    zig_f[0] = 1.0;
    zig_f[127] = exp(-0.5 * dn * dn);
    for (int i = 126; i >= 1; i--) {
        dn = sqrt(-2.0 * log(v / dn + exp(-0.5 * dn * dn)));
        zig_k[i + 1] = (uint32_t)((dn / tn) * m1);
        tn = dn;
        zig_f[i] = exp(-0.5 * dn * dn);
        zig_w[i] = dn / m1;
    }
}

/* A normal, and in *u a uniform from bits 7..31 of the first draw, which the normal never reads:
 * independent of it, and one 64-bit draw serves both in about 99% of calls. */
static inline double normal_and_uniform(Rng *r, double *u) {
    uint64_t first = next_u64(r);
    *u = (((first >> 7) & 0x1FFFFFF) + 0.5) * (1.0 / 33554432.0);
    for (uint64_t bits = first;; bits = next_u64(r)) {
        int32_t hz = (int32_t)(bits >> 32);
        int iz = (int)(bits & 127);
        uint32_t magnitude = hz < 0 ? (uint32_t)(-(int64_t)hz) : (uint32_t)hz;
        double x = hz * zig_w[iz];
        if (magnitude < zig_k[iz]) return x; /* inside the layer's box: about 99% of draws */
        if (iz == 0) {                        /* the tail beyond R */
            double y;
            do {
                x = -log(uniform(r)) / ZIG_R;
                y = -log(uniform(r));
            } while (y + y < x * x);
            return hz > 0 ? ZIG_R + x : -ZIG_R - x;
        }
        if (zig_f[iz] + uniform(r) * (zig_f[iz - 1] - zig_f[iz]) < exp(-0.5 * x * x)) return x;
    }
}

/* Ziggurat exponentials, 256 layers: the boost needs U ** k = exp(-k E), E ~ Exp(1), and drawing
 * E directly saves the log of a uniform. */
static uint32_t exp_k[256];
static double exp_w[256], exp_f[256];
static const double EXP_R = 7.697117470131487;

static void exp_init(void) {
    const double m2 = 4294967296.0, v = 3.949659822581572e-3;
    double de = EXP_R, te = de, q = v / exp(-de);
    exp_k[0] = (uint32_t)((de / q) * m2);
    exp_k[1] = 0;
    exp_w[0] = q / m2;
    exp_w[255] = de / m2;
    exp_f[0] = 1.0;
    exp_f[255] = exp(-de);
    for (int i = 254; i >= 1; i--) {
        de = -log(v / de + exp(-de));
        exp_k[i + 1] = (uint32_t)((de / te) * m2);
        te = de;
        exp_f[i] = exp(-de);
        exp_w[i] = de / m2;
    }
}

static inline double exponential(Rng *r) {
    for (;;) {
        uint64_t bits = next_u64(r);
        uint32_t jz = (uint32_t)(bits >> 32);
        int iz = (int)(bits & 255);
        double x = jz * exp_w[iz];
        if (jz < exp_k[iz]) return x; /* about 99% of draws */
        if (iz == 0) return EXP_R - log(uniform(r));
        if (exp_f[iz] + uniform(r) * (exp_f[iz - 1] - exp_f[iz]) < exp(-x)) return x;
    }
}

static void seed_block(Rng *r, uint64_t seed, uint64_t block) {
    uint64_t x = seed ^ (block * 0xD1B54A32D192ED03ULL);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

typedef struct {
    double d, c, inv_a; /* Marsaglia-Tsang constants; inv_a > 0 means boost by U ** inv_a */
} GammaParams;

static inline double gamma_draw(Rng *r, const GammaParams *g) {
    double x, v, u;
    for (;;) {
        do {
            x = normal_and_uniform(r, &u);
            v = 1.0 + g->c * x;
        } while (v <= 0.0);
        v = v * v * v;
        double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2) break;
        if (log(u) < 0.5 * x2 + g->d * (1.0 - v + log(v))) break;
    }
    double draw = g->d * v;
    if (g->inv_a > 0.0) draw *= exp(-exponential(r) * g->inv_a); /* U ** (1 / a), U = exp(-E) */
    return draw;
}

static PyObject *sample(PyObject *self, PyObject *args) {
    Py_buffer out;
    Py_ssize_t start, stop, s;
    double k;
    unsigned long long seed;
    int is_double;
    if (!PyArg_ParseTuple(args, "w*nnndKp", &out, &start, &stop, &s, &k, &seed, &is_double)) return NULL;
    Py_ssize_t itemsize = is_double ? 8 : 4;
    if (start < 0 || stop < start || stop * itemsize > out.len || s < 1 || !(k > 0) || start % BLOCK) {
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, "_sumofgamma.sample: bad arguments");
        return NULL;
    }
    double a = 1.0 / k;
    GammaParams g;
    g.d = (a < 1.0 ? a + 1.0 : a) - 1.0 / 3.0;
    g.c = 1.0 / sqrt(9.0 * g.d);
    g.inv_a = a < 1.0 ? k : 0.0;
    double shift = log((double)s) / k;

    double *inverse = (double *)malloc(sizeof(double) * s);
    if (!inverse) {
        PyBuffer_Release(&out);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < s; i++) inverse[i] = 1.0 / (double)(i + 1);

    Py_BEGIN_ALLOW_THREADS
    Rng rng;
    for (Py_ssize_t j = start; j < stop; j++) {
        if ((j - start) % BLOCK == 0) seed_block(&rng, (uint64_t)seed, (uint64_t)(j / BLOCK));
        double acc = 0.0;
        for (Py_ssize_t i = 0; i < s; i++) acc += gamma_draw(&rng, &g) * inverse[i];
        acc -= shift;
        if (is_double) ((double *)out.buf)[j] = acc;
        else ((float *)out.buf)[j] = (float)acc;
    }
    Py_END_ALLOW_THREADS

    free(inverse);
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"sample", sample, METH_VARARGS,
     "sample(out, start, stop, s, k, seed, is_double): fill out[start:stop] (float32 or float64, "
     "flat) with Sum-of-Gamma noise; start must be a multiple of BLOCK."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_sumofgamma", NULL, -1, methods};

PyMODINIT_FUNC PyInit__sumofgamma(void) {
    zig_init();
    exp_init();
    PyObject *m = PyModule_Create(&module);
    if (m) PyModule_AddIntConstant(m, "BLOCK", BLOCK);
    return m;
}
