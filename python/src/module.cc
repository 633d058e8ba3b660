// fo._fo: the extension module behind the Python package `fo`. Translates
// fo::Error into Python exceptions by code and registers the bindings.
#include "common.h"
#include "fo/brain.h"
#include "fo/error.h"

namespace fo::py_bind {
namespace {

PyObject* ExceptionType(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kAlreadyExists: return PyExc_ValueError;
    case ErrorCode::kNotFound: return PyExc_KeyError;
    case ErrorCode::kUnavailable: return PyExc_ConnectionError;
    case ErrorCode::kUnauthenticated: return PyExc_PermissionError;
    case ErrorCode::kUnimplemented: return PyExc_NotImplementedError;
    case ErrorCode::kIOError: return PyExc_OSError;
    default: return PyExc_RuntimeError;
  }
}

}  // namespace

void BindModule(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      PyErr_SetString(ExceptionType(e.code()), e.what());
    }
  });
  m.attr("__version__") = Version();
  m.def("_reset_store", &ResetDb,
        "Forgets the open store: the next call opens $FO_DATABASE_PATH again (for tests).");
}

}  // namespace fo::py_bind

PYBIND11_MODULE(_fo, m) {
  m.doc() = "C++ core of the fo package (FiftyOne similarity search)";
  fo::py_bind::BindModule(m);
  fo::py_bind::BindModel(m);
  fo::py_bind::BindDataset(m);
  fo::py_bind::BindEdits(m);
  fo::py_bind::BindBrain(m);
  fo::py_bind::BindZoo(m);
}
