/* The one shape of imle's compiled modules: a module holding one function that takes positional
 * arguments. IMLE_MODULE(NAME, FUNCTION_NAME, FUNCTION, DOC) defines the method table and the
 * module definition `module`; the file's PyInit_NAME returns PyModule_Create(&module). */
#ifndef IMLE_EXTENSION_MODULE_H
#define IMLE_EXTENSION_MODULE_H

#include <Python.h>

#define IMLE_MODULE(name, function_name, function, doc)                                              \
    static PyMethodDef methods[] = {{function_name, function, METH_VARARGS, doc}, {NULL, NULL, 0, NULL}}; \
    static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, name, NULL, -1, methods};

#endif
