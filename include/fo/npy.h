// Reading and writing NumPy .npy files (format versions 1.0-3.0): the
// interchange format for embedding matrices on the command line.
#ifndef FO_NPY_H_
#define FO_NPY_H_

#include <string>

#include "fo/matrix.h"

namespace fo {

// Reads a 2-D (or 1-D, as one row) little-endian float32 or float64 array in
// C order. Throws kInvalidArgument with the file name and the problem for
// anything else (bad magic, truncated data, other dtype, Fortran order...).
Matrix ReadNpy(const std::string& path);

// Writes a 2-D float32 array.
void WriteNpy(const Matrix& matrix, const std::string& path);

}  // namespace fo

#endif  // FO_NPY_H_
