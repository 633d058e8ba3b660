// Shared helpers of the fo._fo extension module: the process-wide store and
// the conversions between Python objects and fo's values, matrices and JSON.
#ifndef FO_PYTHON_COMMON_H_
#define FO_PYTHON_COMMON_H_

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fo/embeddings.h"
#include "fo/matrix.h"
#include "fo/sample.h"
#include "fo/value.h"
#include "fo/view.h"

namespace fo {
class Database;
class Dataset;
class Model;
}

namespace fo::py_bind {

namespace py = pybind11;

// The store of this process, opened on first use (Database::OpenDefault, so
// $FO_DATABASE_PATH is read then, not at import).
std::shared_ptr<Database> Db();
// Forgets the process's store, so that the next use opens
// $FO_DATABASE_PATH again (objects already created keep theirs). For tests.
void ResetDb();

// Rows of a numpy array as float32, viewed in place when the array already
// is C-contiguous float32 (else converted once into `array`, which owns the
// floats the view points to while this object lives).
struct FloatRows {
  py::array_t<float> array;
  MatrixView view{nullptr, 0, 0};
};
FloatRows ToFloatRows(py::handle obj, const char* what, bool allow_1d = false);

// A float32/float64 numpy array (or anything numpy converts) as a row-major
// float32 Matrix (a copy). A 1-D array becomes one row when allow_1d. Throws
// kInvalidArgument naming `what` and the expected shape otherwise.
Matrix ToMatrix(py::handle obj, const char* what, bool allow_1d = false);
// A numpy float32 array owning the matrix's buffer (no copy). 1-D when flat.
py::array_t<float> FromMatrix(Matrix m, bool flat = false);

Value ToValue(py::handle obj);
py::object FromValue(const Value& v);

nlohmann::json ToJson(py::handle obj);
py::object FromJson(const nlohmann::json& j);

// A list/tuple of str (or a single str when allow_single) as ids.
std::vector<std::string> ToIds(py::handle obj, const char* what, bool allow_single = true);

// The fo::View of a Dataset or a View Python object.
View ToView(py::handle obj);

// A model loaded for Python, with the name and kwargs it was loaded by
// (recorded in runs that use it). fo::Model is not thread-safe and calls
// release the GIL, hence the mutex.
struct PyModel {
  std::string name;
  nlohmann::json kwargs;
  std::shared_ptr<Model> model;
  std::mutex mu;

  static std::shared_ptr<PyModel> Load(const std::string& name, nlohmann::json kwargs);
};
// A PyModel, or a model name loaded with no kwargs.
std::shared_ptr<PyModel> ToModel(py::handle obj);

// compute_embeddings' common keyword arguments (None: the library's default);
// kInvalidArgument for a batch_size below 1.
ComputeEmbeddingsOptions EmbeddingsOptions(py::object batch_size, py::object num_workers, bool skip_failures,
                                           py::object progress);

void AddEmbeddingMethods(py::class_<View>& view, py::class_<Dataset>& dataset);

void BindModule(py::module_& m);
void BindModel(py::module_& m);
void BindDataset(py::module_& m);
// The edits that persist (fo/edits.h), added to the classes BindDataset made.
void BindEdits(py::module_& m);
void BindBrain(py::module_& m);
void BindZoo(py::module_& m);

}  // namespace fo::py_bind

#endif  // FO_PYTHON_COMMON_H_
