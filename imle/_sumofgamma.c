/*
 * Compiled CPU sampler for Sum-of-Gamma noise: out[j] = sum_{i=1..s} X_ij / i - log(s) / k with
 * X_ij ~ Gamma(1/k, 1), the form imle.noise.SumOfGammaNoiseDistribution documents.
 *
 * Why compiled: as torch kernels a Gamma draw takes some fifteen passes over memory plus a
 * compaction for the rejected tries. Here a draw is a few register operations and the output is
 * the only memory written (no temporaries).
 *
 * Gamma draws (a = 1/k < 1, the usual case: k is a structure's size): Ahrens and Dieter's GS
 * rejection algorithm (Computing 1974), written so that a try needs one 64-bit random number,
 * one exponential from a ziggurat and one exp(), and no log (see gs_try). For a >= 1 (k <= 1):
 * Marsaglia and Tsang (ACM TOMS 2000), scalar.
 *
 * Why SIMD: a scalar draw is a chain of dependent operations and hard-to-predict branches
 * (13 ns a draw on the benchmark machine). Here LANES output elements are sampled side by side,
 * each with its own random stream. Every round each lane makes one try at its next term with
 * straight-line code the compiler turns into SIMD (GCC target clones pick AVX-512, AVX2, SSE4.2
 * or SSE2 at load time: 6.2, 7.5, 12 and 18 ns a draw here); the ~4% of tries that leave the
 * common path (a ziggurat miss, GS's rare branch, an acceptance the cheap bounds cannot settle)
 * are finished by the scalar reference, gs_try. The
 * common path is an exact shortcut of gs_try: the same operations in the same order (built with
 * -ffp-contract=off; exp() is our own polynomial, the same in both), so the numbers do not
 * depend on the SIMD width, and sample(..., scalar_only=True), which sends every try through
 * gs_try, gives the same output bit for bit (tests check it, and compare builds for each
 * instruction set with each other).
 *
 * Randomness: element j has its own xoshiro256++ stream, seeded with splitmix64 from (seed, j),
 * so the numbers depend on the seed alone, never on how the elements are split among threads.
 * The Python side draws the seed from the caller's torch.Generator.
 *
 * Threads: none of its own. A call runs on the calling thread with the GIL released; imle.noise
 * splits large calls among a plain pool of blocking Python threads (imle/_threads.py). An
 * earlier version ran its own POSIX pool with spinning helpers: about 2x on small calls, paid
 * for with a second concurrency runtime beside torch's (see the README's performance notes).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_extension_module.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LANES 32

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__) && defined(__GLIBC__)
#define SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "sse4.2", "default")))
#else
#define SIMD_CLONES
#endif

/* ---------------------------------------------------------------- random streams, SoA */

typedef struct {
    uint64_t s[4][LANES]; /* xoshiro256++ state: word w of lane j is s[w][j] */
} Streams;

static inline uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static void seed_lane(Streams *st, int lane, uint64_t seed, uint64_t element) {
    uint64_t x = seed ^ (element * 0xD1B54A32D192ED03ULL);
    for (int w = 0; w < 4; w++) st->s[w][lane] = splitmix64(&x);
}

/* One step of xoshiro256++ on lane j: its next number (scalar code). */
static inline uint64_t next_lane(Streams *st, int j) {
    uint64_t s0 = st->s[0][j], s1 = st->s[1][j], s2 = st->s[2][j], s3 = st->s[3][j];
    uint64_t result = rotl(s0 + s3, 23) + s0;
    uint64_t t = s1 << 17;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 45);
    st->s[0][j] = s0, st->s[1][j] = s1, st->s[2][j] = s2, st->s[3][j] = s3;
    return result;
}

/* The next number of every lane's stream at once (a loop the compiler turns into SIMD). */
static inline void next_all(Streams *st, uint64_t out[LANES]) {
    for (int j = 0; j < LANES; j++) out[j] = next_lane(st, j);
}

/* ---------------------------------------------------------------- exact bit tricks */

static inline double bits_to_double(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static inline uint64_t double_to_bits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

#define TWO52 4503599627370496.0

/* An integer below 2^52 as a double, exactly, with integer operations only (int64 -> double
 * conversion has no AVX2 instruction; this vectorises everywhere). */
static inline double small_uint_to_double(uint64_t v) { return bits_to_double(0x4330000000000000ULL | v) - TWO52; }

/* The signed 32-bit integer in the top half of `bits`, as a double (exact). */
static inline double top_int32_to_double(uint64_t bits) {
    return small_uint_to_double((bits >> 32) ^ 0x80000000ULL) - 2147483648.0;
}

/* Uniform on (0, 1) from bits 7..31 (25 bits; never 0, so its log is finite). */
static inline double uniform_from_low_bits(uint64_t bits) {
    return (small_uint_to_double((bits >> 7) & 0x1FFFFFFULL) + 0.5) * (1.0 / 33554432.0);
}

/* Uniform on (0, 1) from the top 52 bits (small_uint_to_double takes at most 52). */
static inline double uniform52(uint64_t bits) { return (small_uint_to_double(bits >> 12) + 0.5) * (1.0 / 4503599627370496.0); }

/* exp(x) for x <= 0, within 2 ulp of libm: x = n ln 2 + r, |r| <= ln(2) / 2, e^r by its Taylor series
 * to degree 13 (truncation below 1e-17), 2^n built in the exponent bits. Below -708 (where
 * results would be subnormal) it returns 0. Operations only, no table and no branch: SIMD. */
static inline double exp_nonpositive(double x) {
    const double shifter = 6755399441055744.0; /* 1.5 * 2^52: adding it rounds to an integer */
    double clamped = x < -708.0 ? -708.0 : x;
    double t = clamped * 1.4426950408889634 + shifter;
    double n = t - shifter;
    double r = (clamped - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
    /* Taylor coefficients 1 / i!, summed by Estrin's scheme: a dependency chain of 7 operations
     * instead of Horner's 28, so SIMD lanes are not waiting on each other's latency */
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double p01 = 1.0 + r, p23 = 0.5 + r * (1.0 / 6.0), p45 = 1.0 / 24.0 + r * (1.0 / 120.0);
    double p67 = 1.0 / 720.0 + r * (1.0 / 5040.0), p89 = 1.0 / 40320.0 + r * (1.0 / 362880.0);
    double p1011 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0), p1213 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0);
    double p03 = p01 + r2 * p23, p47 = p45 + r2 * p67, p811 = p89 + r2 * p1011;
    double p = (p03 + r4 * p47) + r8 * (p811 + r4 * p1213);
    /* the low bits of t hold n (offset by 2^51): (n + 1023) << 52 is 2^n's bit pattern */
    double scale = bits_to_double((double_to_bits(t) + 1023) << 52);
    return x < -708.0 ? 0.0 : p * scale;
}

/* ---------------------------------------------------------------- ziggurats */

/* Normals (Marsaglia and Tsang, J. Stat. Softw. 2000), 128 layers, for the a >= 1 sampler. The
 * layer index (bits 0..6), the value (bits 32..63) and the Marsaglia-Tsang uniform (bits 7..31)
 * come from disjoint bits of one 64-bit draw. Tables hold doubles (the integer bounds exactly),
 * so the SIMD path compares doubles and needs no integer conversion. */
static double zig_k[128], zig_w[128], zig_f[128];
static const double ZIG_R = 3.442619855899;

static void zig_init(void) {
    const double m1 = 2147483648.0, v = 9.91256303526217e-3;
    double dn = ZIG_R, tn = dn, q = v / exp(-0.5 * dn * dn);
    zig_k[0] = (double)(uint32_t)((dn / q) * m1);
    zig_k[1] = 0;
    zig_w[0] = q / m1;
    zig_w[127] = dn / m1;
    zig_f[0] = 1.0;
    zig_f[127] = exp(-0.5 * dn * dn);
    for (int i = 126; i >= 1; i--) {
        dn = sqrt(-2.0 * log(v / dn + exp(-0.5 * dn * dn)));
        zig_k[i + 1] = (double)(uint32_t)((dn / tn) * m1);
        tn = dn;
        zig_f[i] = exp(-0.5 * dn * dn);
        zig_w[i] = dn / m1;
    }
}

/* Exponentials, 256 layers, for GS: layer from bits 0..7, value from bits 32..63. */
static double exp_k[256], exp_w[256], exp_f[256];
static const double EXP_R = 7.697117470131487;

static void exp_init(void) {
    const double m2 = 4294967296.0, v = 3.949659822581572e-3;
    double de = EXP_R, te = de, q = v / exp(-de);
    exp_k[0] = (double)(uint32_t)((de / q) * m2);
    exp_k[1] = 0;
    exp_w[0] = q / m2;
    exp_w[255] = de / m2;
    exp_f[0] = 1.0;
    exp_f[255] = exp(-de);
    for (int i = 254; i >= 1; i--) {
        de = -log(v / de + exp(-de));
        exp_k[i + 1] = (double)(uint32_t)((de / te) * m2);
        te = de;
        exp_f[i] = exp(-de);
        exp_w[i] = de / m2;
    }
}

/* A normal from `bits` (the first try) and further numbers of lane j's stream if the ziggurat
 * misses; *u is the uniform from the first try's bits 7..31, which the normal never reads. */
static double normal_from(Streams *st, int j, uint64_t bits, double *u) {
    *u = uniform_from_low_bits(bits);
    for (;; bits = next_lane(st, j)) {
        double hz = top_int32_to_double(bits);
        int iz = (int)(bits & 127);
        double x = hz * zig_w[iz];
        if (fabs(hz) < zig_k[iz]) return x; /* inside the layer's box: about 99% of tries */
        if (iz == 0) {                      /* the tail beyond R */
            double y;
            do {
                x = -log(uniform52(next_lane(st, j))) / ZIG_R;
                y = -log(uniform52(next_lane(st, j)));
            } while (y + y < x * x);
            return hz > 0 ? ZIG_R + x : -ZIG_R - x;
        }
        if (zig_f[iz] + uniform52(next_lane(st, j)) * (zig_f[iz - 1] - zig_f[iz]) < exp(-0.5 * x * x)) return x;
    }
}

/* ---------------------------------------------------------------- Gamma draws */

typedef struct {
    double a, k;  /* concentration a = 1 / k */
    double d, c;  /* Marsaglia-Tsang's constants (a >= 1) */
    double b, log_b; /* Ahrens-Dieter GS's b = 1 + a / e (a < 1) */
} GammaParams;

/* Gamma(a) for a >= 1 (k <= 1, rare in practice), scalar: Marsaglia and Tsang with its squeeze. */
static double marsaglia_tsang(Streams *st, int j, const GammaParams *g) {
    for (;;) {
        double u, x = normal_from(st, j, next_lane(st, j), &u);
        double v = 1.0 + g->c * x;
        if (!(v > 0.0)) continue;
        v = v * v * v;
        double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2 || log(u) < 0.5 * x2 + g->d * (1.0 - v + log(v))) return g->d * v;
    }
}

/* Uniform on (0, 1) from bits 8..31 (24 bits), for an acceptance test. */
static inline double uniform_from_middle_bits(uint64_t bits) {
    return (small_uint_to_double((bits >> 8) & 0xFFFFFFULL) + 0.5) * (1.0 / 16777216.0);
}

/* One try of Ahrens and Dieter's GS algorithm (Computing 1974) for Gamma(a), a < 1, for lane j:
 * the reference for the SIMD common path. GS draws p = b U: if p <= 1 then x = p ** (1 / a),
 * accepted with probability exp(-x); else x = -log((b - p) / a), accepted with probability
 * x ** (a - 1). With U = exp(-E), E ~ Exp(1) from the ziggurat, p <= 1 is E >= log b and
 * x = exp(k (log b - E)): one exp, no log. One 64-bit number per try: the ziggurat reads bits
 * 0..7 and 32..63, the acceptance uniform is bits 8..31. The acceptance test first tries the
 * bounds 1 - x + x^2/2 - x^3/6 <= exp(-x) <= 1 - x + x^2/2, which settle all but ~0.3% of tries.
 * Returns 1 and sets *draw on acceptance, 0 on rejection (the caller tries again). Accepts
 * about 96% of tries at k = 20.8. */
static int gs_try(Streams *st, int j, uint64_t bits, const GammaParams *g, double *draw) {
    double jz = small_uint_to_double(bits >> 32);
    uint64_t ie = bits & 255;
    double e = jz * exp_w[ie];
    if (!(jz < exp_k[ie])) { /* outside the ziggurat's box: about 2% of tries */
        if (ie == 0) e = EXP_R - log(uniform52(next_lane(st, j)));
        else if (!(exp_f[ie] + uniform52(next_lane(st, j)) * (exp_f[ie - 1] - exp_f[ie]) < exp(-e))) return 0;
    }
    double u = uniform_from_middle_bits(bits);
    if (e >= g->log_b) { /* p <= 1: about 98% of tries at k = 20.8 */
        double x = exp_nonpositive(g->k * (g->log_b - e));
        double x2 = x * x, upper = 1.0 - x + 0.5 * x2, lower = upper - x2 * x * (1.0 / 6.0);
        if (u <= lower) return *draw = x, 1;
        if (u > upper) return 0;
        return u <= exp(-x) ? (*draw = x, 1) : 0;
    }
    double x = -log((g->b - g->b * exp(-e)) * g->k); /* p > 1: x > 1, accepted with x ** (a - 1) */
    return u <= exp_nonpositive((g->a - 1.0) * log(x)) ? (*draw = x, 1) : 0;
}

enum { REJECTED = 0, ACCEPTED = 1, TO_SCALAR = 2 };

/* Sum-of-Gamma values for the LANES elements first .. first + LANES - 1 into acc, a < 1.
 *
 * Every round, each lane makes one GS try (one number from its stream) at its next term. The
 * SIMD common path settles every try whose ziggurat lands in its box, whose p is <= 1 and whose
 * acceptance the bounds decide (about 96% of tries): it computes what gs_try would, operation
 * for operation. The other tries go to gs_try itself. Lanes advance independently (a rejection
 * only delays its own lane); a lane that is done idles until the slowest one is (about 10% extra
 * rounds at s = 100). What a lane draws depends on its own stream only, so the SIMD width never
 * changes the numbers, and scalar_only (every try through gs_try) gives the same ones. */
SIMD_CLONES
static void sum_of_gamma_lanes(uint64_t seed, uint64_t first, int count, Py_ssize_t s, const GammaParams *g,
                               int scalar_only, double acc[LANES]) {
    Streams st;
    double term[LANES]; /* the lane's terms so far, 0 .. s; lanes past count start done */
    const double s_double = (double)s;
    for (int j = 0; j < LANES; j++) {
        seed_lane(&st, j, seed, first + (uint64_t)j);
        term[j] = j < count ? 0.0 : s_double;
        acc[j] = 0.0;
    }
    const double k = g->k, log_b = g->log_b;
    for (;;) {
        int64_t busy = 0;
        for (int j = 0; j < LANES; j++) busy |= term[j] < s_double;
        if (!busy) break;
        uint64_t r[LANES];
        double draw[LANES];
        int64_t status[LANES];
        next_all(&st, r);
        for (int j = 0; j < LANES; j++) {
            /* 64-bit types only (one element width) and no branches: all of it SIMD */
            uint64_t bits = r[j];
            double jz = small_uint_to_double(bits >> 32);
            uint64_t ie = bits & 255;
            double e = jz * exp_w[ie];
            int64_t common = (jz < exp_k[ie]) & (e >= log_b);
            double u = uniform_from_middle_bits(bits);
            double x = exp_nonpositive(k * (log_b - e));
            double x2 = x * x, upper = 1.0 - x + 0.5 * x2, lower = upper - x2 * x * (1.0 / 6.0);
            draw[j] = x;
            status[j] = !common ? TO_SCALAR : u <= lower ? ACCEPTED : u > upper ? REJECTED : TO_SCALAR;
        }
        int64_t any_scalar = 0;
        for (int j = 0; j < LANES; j++) any_scalar |= status[j] == TO_SCALAR;
        if (any_scalar || scalar_only)
            for (int j = 0; j < LANES; j++) /* lanes that are done need no answer */
                if ((status[j] == TO_SCALAR || scalar_only) && term[j] < s_double)
                    status[j] = gs_try(&st, j, r[j], g, &draw[j]);
        for (int j = 0; j < LANES; j++) {
            int64_t take = (status[j] == ACCEPTED) & (term[j] < s_double);
            acc[j] += take ? draw[j] * (1.0 / (term[j] + 1.0)) : 0.0;
            term[j] += take ? 1.0 : 0.0;
        }
    }
}

/* The same for a >= 1, scalar: each lane's terms one after the other. */
static void sum_of_gamma_lanes_large_shape(uint64_t seed, uint64_t first, int count, Py_ssize_t s,
                                           const GammaParams *g, double acc[LANES]) {
    Streams st;
    for (int j = 0; j < count; j++) {
        seed_lane(&st, j, seed, first + (uint64_t)j);
        acc[j] = 0.0;
        for (Py_ssize_t i = 0; i < s; i++) acc[j] += marsaglia_tsang(&st, j, g) * (1.0 / (i + 1.0));
    }
}

/* ---------------------------------------------------------------- one call's work */

typedef struct {
    void *out;
    int is_double, scalar_only;
    Py_ssize_t start, stop, s;
    uint64_t seed;
    double shift;
    GammaParams g;
} Job;

/* Elements start + group * LANES .. (LANES of them, fewer at the end) of a job. */
static void run_group(const Job *job, Py_ssize_t group) {
    Py_ssize_t first = job->start + group * LANES;
    double acc[LANES];
    int count = job->stop - first < LANES ? (int)(job->stop - first) : LANES; /* the last group may be short */
    if (job->g.a < 1.0) sum_of_gamma_lanes(job->seed, (uint64_t)first, count, job->s, &job->g, job->scalar_only, acc);
    else sum_of_gamma_lanes_large_shape(job->seed, (uint64_t)first, count, job->s, &job->g, acc);
    for (int j = 0; j < count; j++) {
        if (job->is_double) ((double *)job->out)[first + j] = acc[j] - job->shift;
        else ((float *)job->out)[first + j] = (float)(acc[j] - job->shift);
    }
}

static PyObject *sample(PyObject *self, PyObject *args) {
    Py_buffer out;
    Py_ssize_t start, stop, s;
    double k;
    unsigned long long seed;
    int is_double, scalar_only = 0;
    if (!PyArg_ParseTuple(args, "w*nnndKp|p", &out, &start, &stop, &s, &k, &seed, &is_double, &scalar_only))
        return NULL;
    Py_ssize_t itemsize = is_double ? 8 : 4;
    /* stop <= len / itemsize rather than stop * itemsize <= len: no product that can overflow */
    if (start < 0 || stop < start || stop > out.len / itemsize || s < 1 || !(k > 0) || !isfinite(k)) {
        PyBuffer_Release(&out);
        PyErr_SetString(PyExc_ValueError, "_sumofgamma.sample: bad arguments");
        return NULL;
    }
    Job job;
    job.out = out.buf;
    job.is_double = is_double;
    job.scalar_only = scalar_only;
    job.start = start;
    job.stop = stop;
    job.s = s;
    job.seed = (uint64_t)seed;
    job.shift = log((double)s) / k;
    job.g.a = 1.0 / k;
    job.g.k = k;
    job.g.d = job.g.a - 1.0 / 3.0;
    job.g.c = 1.0 / sqrt(9.0 * job.g.d);
    job.g.b = 1.0 + job.g.a / 2.718281828459045;
    job.g.log_b = log(job.g.b);

    Py_ssize_t groups = (stop - start) / LANES + ((stop - start) % LANES != 0);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t group = 0; group < groups; group++) run_group(&job, group);
    Py_END_ALLOW_THREADS

    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

IMLE_MODULE("_sumofgamma", "sample", sample,
            "sample(out, start, stop, s, k, seed, is_double, scalar_only=False): fill out[start:stop] "
            "(float32 or float64, flat) with Sum-of-Gamma noise on the calling thread, the GIL released. "
            "Element j's numbers depend on (seed, j) only, so callers may split a job among threads. "
            "scalar_only skips the SIMD common path (same numbers, slower; for tests).")

PyMODINIT_FUNC PyInit__sumofgamma(void) {
    zig_init();
    exp_init();
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "LANES", LANES)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
