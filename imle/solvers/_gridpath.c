/*
 * Batched vertex-weighted shortest paths on grids: the compiled back end of
 * imle.solvers.grid_shortest_path. Same rules as imle/solvers/_grid_python.py (the reference
 * implementation; tests compare the two mask for mask):
 *
 *   - a path's cost is the sum of the costs of the cells it visits, both ends included;
 *   - source: cell (0, 0) and target: cell (H - 1, W - 1) unless given (flat cell indices, the
 *     same for every grid of the batch); 8- or 4-neighbourhood;
 *   - values come as float32 or float64, as costs or (negate) as weights whose negatives are
 *     the costs; NaN or infinite values make solve() return 1 and solve nothing, and so do values
 *     so large that a path's sum could overflow a double (|value| * H * W > DBL_MAX): 2; negative
 *     costs are clamped to zero (the rule imle.solvers.grid documents);
 *   - among cheapest paths the one with the fewest cells wins: Dijkstra runs on the
 *     lexicographic key (cost, cells), which is strictly increasing along every edge even when
 *     costs are zero, so the path read back below can never loop;
 *   - the path is read back from the target: the predecessor of a cell is the first neighbour in
 *     reading order (up-left, up, up-right, left, right, down-left, down, down-right) whose key
 *     plus the cell's own (cost, 1) equals the cell's key. This depends only on the final keys,
 *     never on heap order, so every implementation gives the same mask.
 *
 * The GIL is released while solving, so Python threads can solve disjoint slices of a batch.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_extension_module.h"
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double *cost;   /* the padded cost grid */
    double *dist;   /* best cost found so far, per cell */
    int32_t *cells; /* number of cells on that path, per cell */
    int32_t *heap;  /* binary heap of cell indices */
    int32_t *pos;   /* position of a cell in the heap; -1 never seen, -2 settled */
    int32_t size;
} Workspace;

static inline int key_less(const Workspace *w, int32_t a, int32_t b) {
    double da = w->dist[a], db = w->dist[b];
    return da < db || (da == db && w->cells[a] < w->cells[b]);
}

static inline void heap_place(Workspace *w, int32_t i, int32_t node) {
    w->heap[i] = node;
    w->pos[node] = i;
}

static void sift_up(Workspace *w, int32_t i) {
    int32_t node = w->heap[i];
    while (i > 0) {
        int32_t parent = (i - 1) >> 1;
        if (!key_less(w, node, w->heap[parent])) break;
        heap_place(w, i, w->heap[parent]);
        i = parent;
    }
    heap_place(w, i, node);
}

static void sift_down(Workspace *w, int32_t i) {
    int32_t node = w->heap[i];
    for (;;) {
        int32_t child = 2 * i + 1;
        if (child >= w->size) break;
        if (child + 1 < w->size && key_less(w, w->heap[child + 1], w->heap[child])) child++;
        if (!key_less(w, w->heap[child], node)) break;
        heap_place(w, i, w->heap[child]);
        i = child;
    }
    heap_place(w, i, node);
}

static int32_t heap_pop(Workspace *w) {
    int32_t top = w->heap[0];
    w->size--;
    if (w->size > 0) {
        w->heap[0] = w->heap[w->size];
        sift_down(w, 0);
    }
    w->pos[top] = -2;
    return top;
}

/* Input values and output masks come as float32 or float64 (the caller's tensor's own dtype,
 * so no conversion pass in Python). */
typedef struct {
    const void *values;
    int values_double, negate;
    void *mask;
    int mask_double;
} Buffers;

static inline double value_at(const Buffers *io, Py_ssize_t i) {
    return io->values_double ? ((const double *)io->values)[i] : (double)((const float *)io->values)[i];
}

/* 0 if every value is finite and at most `limit` in size, 1 if one is NaN or infinite, else 2. */
static int check_values(const Buffers *io, Py_ssize_t count, double limit) {
    int too_large = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        double v = value_at(io, i);
        if (!isfinite(v)) return 1;
        too_large |= fabs(v) > limit;
    }
    return too_large ? 2 : 0;
}

/* The grid is padded with a one-cell border marked settled, so the inner loop needs no bounds
 * checks: P = W + 2 is the padded row length and padded cell (r + 1) * P + (c + 1) is cell (r, c). */
static void solve_one(const Buffers *io, Py_ssize_t first, int32_t H, int32_t W, int32_t from, int32_t to,
                      const int32_t *offsets, int nn, Workspace *w) {
    const int32_t P = W + 2, source = (from / W + 1) * P + from % W + 1, target = (to / W + 1) * P + to % W + 1;
    for (int32_t i = 0; i < (H + 2) * P; i++) {
        w->pos[i] = -2;     /* border: settled, never relaxed */
        w->cells[i] = -8;   /* border: never matches a read-back */
    }
    for (int32_t r = 0; r < H; r++)
        for (int32_t c = 0; c < W; c++) {
            int32_t p = (r + 1) * P + c + 1;
            double value = value_at(io, first + r * W + c), cost = io->negate ? -value : value;
            w->cost[p] = cost > 0.0 ? cost : 0.0; /* clamped; also turns -0.0 into 0.0 */
            w->pos[p] = -1;
        }
    w->size = 0;
    w->dist[source] = w->cost[source];
    w->cells[source] = 1;
    heap_place(w, 0, source);
    w->size = 1;

    while (w->size > 0) {
        int32_t u = heap_pop(w);
        if (u == target) break;
        double du = w->dist[u];
        int32_t hu = w->cells[u] + 1;
        for (int k = 0; k < nn; k++) {
            int32_t v = u + offsets[k];
            int32_t p = w->pos[v];
            if (p == -2) continue;
            double dv = du + w->cost[v];
            if (p == -1) {
                w->dist[v] = dv;
                w->cells[v] = hu;
                w->heap[w->size] = v;
                w->size++;
                sift_up(w, w->size - 1);
            } else if (dv < w->dist[v] || (dv == w->dist[v] && hu < w->cells[v])) {
                w->dist[v] = dv;
                w->cells[v] = hu;
                sift_up(w, p);
            }
        }
    }

    /* Read the path back. Every cell whose key is below the target's was settled above. */
    const Py_ssize_t n = (Py_ssize_t)H * W;
    memset((char *)io->mask + first * (io->mask_double ? 8 : 4), 0, (size_t)n * (io->mask_double ? 8 : 4));
    int32_t v = target;
    for (;;) {
        Py_ssize_t cell = first + (v / P - 1) * W + (v % P - 1);
        if (io->mask_double) ((double *)io->mask)[cell] = 1.0;
        else ((float *)io->mask)[cell] = 1.0f;
        if (v == source) break;
        double dv = w->dist[v], cv = w->cost[v];
        int32_t hv = w->cells[v], next = -1;
        for (int k = 0; k < nn; k++) {
            int32_t u = v + offsets[k];
            if (w->pos[u] == -2 && w->cells[u] + 1 == hv && w->dist[u] + cv == dv) {
                next = u;
                break;
            }
        }
        if (next < 0) break; /* unreachable for valid input: keys are consistent */
        v = next;
    }
}

static PyObject *solve(PyObject *self, PyObject *args) {
    Py_buffer costs, out;
    Py_ssize_t B, H, W, from = 0, to = -1;
    int neighbourhood;
    Buffers io;
    if (!PyArg_ParseTuple(args, "y*nnniw*ppp|nn", &costs, &B, &H, &W, &neighbourhood, &out, &io.values_double,
                          &io.mask_double, &io.negate, &from, &to))
        return NULL;

    PyObject *result = NULL;
    /* sizes checked one factor at a time, so that no product below can overflow */
    if (B < 0 || H < 1 || W < 1 || H > INT32_MAX / 4 || W > INT32_MAX / 4 || (H + 2) > INT32_MAX / 2 / (W + 2)) {
        PyErr_SetString(PyExc_ValueError, "_gridpath.solve: bad grid size");
        goto done;
    }
    const Py_ssize_t n = H * W;
    if (to < 0) to = n - 1;
    if (from < 0 || from >= n || to >= n) {
        PyErr_SetString(PyExc_ValueError, "_gridpath.solve: source or target outside the grid");
        goto done;
    }
    if (B > PY_SSIZE_T_MAX / 8 / n) {
        PyErr_SetString(PyExc_ValueError, "_gridpath.solve: bad batch size");
        goto done;
    }
    if (neighbourhood != 4 && neighbourhood != 8) {
        PyErr_SetString(PyExc_ValueError, "_gridpath.solve: neighbourhood must be 4 or 8");
        goto done;
    }
    if (costs.len != B * n * (io.values_double ? 8 : 4) || out.len != B * n * (io.mask_double ? 8 : 4)) {
        PyErr_SetString(PyExc_ValueError, "_gridpath.solve: buffer sizes do not match B * H * W");
        goto done;
    }
    io.values = costs.buf;
    io.mask = out.buf;
    int code;
    Py_BEGIN_ALLOW_THREADS
    code = check_values(&io, B * n, DBL_MAX / (double)n);
    Py_END_ALLOW_THREADS
    if (code) {
        result = PyLong_FromLong(code);
        goto done;
    }

    const Py_ssize_t padded = (H + 2) * (W + 2);
    Workspace w;
    w.cost = (double *)malloc(sizeof(double) * padded);
    w.dist = (double *)malloc(sizeof(double) * padded);
    w.cells = (int32_t *)malloc(sizeof(int32_t) * padded);
    w.heap = (int32_t *)malloc(sizeof(int32_t) * padded);
    w.pos = (int32_t *)malloc(sizeof(int32_t) * padded);
    if (!w.cost || !w.dist || !w.cells || !w.heap || !w.pos) {
        free(w.cost); free(w.dist); free(w.cells); free(w.heap); free(w.pos);
        PyErr_NoMemory();
        goto done;
    }
    /* neighbour offsets in the padded grid, in reading order (the read-back's tie rule) */
    const int32_t P = (int32_t)W + 2;
    const int32_t off8[8] = {-P - 1, -P, -P + 1, -1, 1, P - 1, P, P + 1};
    const int32_t off4[4] = {-P, -1, 1, P};
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t b = 0; b < B; b++)
        solve_one(&io, b * n, (int32_t)H, (int32_t)W, (int32_t)from, (int32_t)to, neighbourhood == 8 ? off8 : off4,
                  neighbourhood, &w);
    Py_END_ALLOW_THREADS

    free(w.cost); free(w.dist); free(w.cells); free(w.heap); free(w.pos);
    result = PyLong_FromLong(0);
done:
    PyBuffer_Release(&costs);
    PyBuffer_Release(&out);
    return result;
}

IMLE_MODULE("_gridpath", "solve", solve,
            "solve(values, B, H, W, neighbourhood, out, values_double, out_double, negate, source=0, "
            "target=H*W-1): shortest-path masks of B grids of H x W values (C order; float64 or float32; "
            "costs, or weights when negate) from flat cell source to flat cell target into out "
            "(B * H * W float64 or float32). Returns 0; or, solving nothing, 1 if a value is NaN or "
            "infinite and 2 if one is so large that a path's sum could overflow (|value| * H * W > DBL_MAX).")

PyMODINIT_FUNC PyInit__gridpath(void) { return PyModule_Create(&module); }
