/*
 * Batched vertex-weighted shortest paths on grids: the compiled back end of
 * imle.solvers.grid_shortest_path. Same rules as imle/solvers/_grid_python.py (the reference
 * implementation; tests compare the two mask for mask):
 *
 *   - a path's cost is the sum of the costs of the cells it visits, both ends included;
 *   - source: cell (0, 0); target: cell (H - 1, W - 1); 8- or 4-neighbourhood;
 *   - costs are finite and >= 0 here (the Python layer validates and clamps);
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
#include <stdint.h>
#include <stdlib.h>

typedef struct {
    double *dist;   /* best cost found so far, per cell */
    int32_t *cells; /* number of cells on that path, per cell */
    int32_t *heap;  /* binary heap of cell indices */
    int32_t *pos;   /* position of a cell in the heap; -1 never seen, -2 settled */
    int32_t size;
} Workspace;

static const int OFF8_DR[8] = {-1, -1, -1, 0, 0, 1, 1, 1};
static const int OFF8_DC[8] = {-1, 0, 1, -1, 1, -1, 0, 1};
static const int OFF4_DR[4] = {-1, 0, 0, 1};
static const int OFF4_DC[4] = {0, -1, 1, 0};

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

static void solve_one(const double *cost, uint8_t *mask, int32_t H, int32_t W,
                      const int *dr, const int *dc, int nn, Workspace *w) {
    const int32_t n = H * W, target = n - 1;
    for (int32_t i = 0; i < n; i++) {
        w->pos[i] = -1;
        mask[i] = 0;
    }
    w->size = 0;
    w->dist[0] = cost[0];
    w->cells[0] = 1;
    heap_place(w, 0, 0);
    w->size = 1;

    while (w->size > 0) {
        int32_t u = heap_pop(w);
        if (u == target) break;
        int32_t r = u / W, c = u - r * W;
        double du = w->dist[u];
        int32_t hu = w->cells[u] + 1;
        for (int k = 0; k < nn; k++) {
            int32_t rr = r + dr[k], cc = c + dc[k];
            if (rr < 0 || rr >= H || cc < 0 || cc >= W) continue;
            int32_t v = rr * W + cc;
            int32_t p = w->pos[v];
            if (p == -2) continue;
            double dv = du + cost[v];
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
    int32_t v = target;
    mask[v] = 1;
    while (v != 0) {
        int32_t r = v / W, c = v - r * W;
        double dv = w->dist[v], cv = cost[v];
        int32_t hv = w->cells[v], next = -1;
        for (int k = 0; k < nn; k++) {
            int32_t rr = r + dr[k], cc = c + dc[k];
            if (rr < 0 || rr >= H || cc < 0 || cc >= W) continue;
            int32_t u = rr * W + cc;
            if (w->pos[u] == -2 && w->cells[u] + 1 == hv && w->dist[u] + cv == dv) {
                next = u;
                break;
            }
        }
        if (next < 0) break; /* unreachable for valid input: keys are consistent */
        v = next;
        mask[v] = 1;
    }
}

static PyObject *solve(PyObject *self, PyObject *args) {
    Py_buffer costs, out;
    Py_ssize_t B, H, W;
    int neighbourhood;
    if (!PyArg_ParseTuple(args, "y*nnniw*", &costs, &B, &H, &W, &neighbourhood, &out)) return NULL;

    PyObject *result = NULL;
    const Py_ssize_t n = H * W;
    if (B < 0 || H < 1 || W < 1 || n > INT32_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "_gridpath.solve: bad grid size");
        goto done;
    }
    if (neighbourhood != 4 && neighbourhood != 8) {
        PyErr_SetString(PyExc_ValueError, "_gridpath.solve: neighbourhood must be 4 or 8");
        goto done;
    }
    if (costs.len != (Py_ssize_t)(B * n * sizeof(double)) || out.len != B * n) {
        PyErr_SetString(PyExc_ValueError, "_gridpath.solve: buffer sizes do not match B * H * W");
        goto done;
    }

    Workspace w;
    w.dist = (double *)malloc(sizeof(double) * n);
    w.cells = (int32_t *)malloc(sizeof(int32_t) * n);
    w.heap = (int32_t *)malloc(sizeof(int32_t) * n);
    w.pos = (int32_t *)malloc(sizeof(int32_t) * n);
    if (!w.dist || !w.cells || !w.heap || !w.pos) {
        free(w.dist); free(w.cells); free(w.heap); free(w.pos);
        PyErr_NoMemory();
        goto done;
    }
    const int *dr = neighbourhood == 8 ? OFF8_DR : OFF4_DR;
    const int *dc = neighbourhood == 8 ? OFF8_DC : OFF4_DC;
    const double *cost = (const double *)costs.buf;
    uint8_t *mask = (uint8_t *)out.buf;

    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t b = 0; b < B; b++)
        solve_one(cost + b * n, mask + b * n, (int32_t)H, (int32_t)W, dr, dc, neighbourhood, &w);
    Py_END_ALLOW_THREADS

    free(w.dist); free(w.cells); free(w.heap); free(w.pos);
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&costs);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"solve", solve, METH_VARARGS,
     "solve(costs, B, H, W, neighbourhood, out): shortest paths of B grids of H x W float64 costs "
     "(C order, finite, >= 0) into the uint8 buffer out (B * H * W)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_gridpath", NULL, -1, methods};

PyMODINIT_FUNC PyInit__gridpath(void) { return PyModule_Create(&module); }
