//! NumPy's `.npy` format (version 1.0) for the arrays both sides read: little-endian `f8` or `i8`,
//! C order, one or two dimensions. A 10-byte preamble (magic, version, header length), a Python
//! dict literal padded with spaces to a multiple of 64 bytes, then the raw values.

use std::path::Path;

use ndarray::{Array1, Array2};

use crate::Error;

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// A value type the format stores: its `descr` and its eight little-endian bytes.
pub trait Element: Copy {
    const DESCR: &'static str;
    fn to_le(self) -> [u8; 8];
    fn from_le(bytes: [u8; 8]) -> Self;
}

impl Element for f64 {
    const DESCR: &'static str = "<f8";
    fn to_le(self) -> [u8; 8] {
        self.to_le_bytes()
    }
    fn from_le(bytes: [u8; 8]) -> Self {
        f64::from_le_bytes(bytes)
    }
}

impl Element for i64 {
    const DESCR: &'static str = "<i8";
    fn to_le(self) -> [u8; 8] {
        self.to_le_bytes()
    }
    fn from_le(bytes: [u8; 8]) -> Self {
        i64::from_le_bytes(bytes)
    }
}

/// The bytes of a `.npy` file holding `values` in C order with `shape`.
fn encode<T: Element>(shape: &[usize], values: impl Iterator<Item = T>) -> Vec<u8> {
    let dims = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {dims}, }}",
        T::DESCR
    );
    // The header ends with a newline, and the data starts on a 64-byte boundary.
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let count: usize = shape.iter().product();
    let mut bytes = Vec::with_capacity(MAGIC.len() + 4 + header.len() + 8 * count);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&[1, 0]);
    let length = u16::try_from(header.len()).expect("a header of a few dozen bytes");
    bytes.extend_from_slice(&length.to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in values {
        bytes.extend_from_slice(&v.to_le());
    }
    bytes
}

/// Writes a matrix as `.npy`, atomically (the workspace's temporary-file-and-rename write).
pub fn write_matrix<T: Element>(path: &Path, a: &Array2<T>) -> Result<(), Error> {
    let bytes = encode(a.shape(), a.iter().copied());
    Ok(catalogue::write_atomically(path, bytes)?)
}

/// Writes a vector as `.npy`, atomically.
pub fn write_vector<T: Element>(path: &Path, a: &Array1<T>) -> Result<(), Error> {
    let bytes = encode(a.shape(), a.iter().copied());
    Ok(catalogue::write_atomically(path, bytes)?)
}

/// Reads a `.npy` file: its shape and its values in C order, checked against `T`.
fn read<T: Element>(path: &Path) -> Result<(Vec<usize>, Vec<T>), Error> {
    let bad = |why: &str| Error::Format {
        path: path.to_path_buf(),
        why: why.to_string(),
    };
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if bytes.len() < 10 || &bytes[..6] != MAGIC || bytes[6] != 1 {
        return Err(bad("not a version 1 .npy file"));
    }
    let header_end = 10 + usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let header = bytes
        .get(10..header_end)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| bad("the header is cut short or not text"))?;
    if !header.contains(&format!("'descr': '{}'", T::DESCR)) {
        return Err(bad(&format!("expected values of type {}", T::DESCR)));
    }
    if !header.contains("'fortran_order': False") {
        return Err(bad("only C-order arrays are read"));
    }
    let shape_text = header
        .split("'shape': (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .ok_or_else(|| bad("no shape in the header"))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse::<usize>()
                .map_err(|_| bad("a dimension is not a number"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let data = &bytes[header_end..];
    let count: usize = shape.iter().product();
    if data.len() != 8 * count {
        return Err(bad(&format!(
            "{} data bytes for {count} values of 8 bytes",
            data.len()
        )));
    }
    let values = data
        .chunks_exact(8)
        .map(|c| T::from_le(c.try_into().expect("chunks of eight")))
        .collect();
    Ok((shape, values))
}

/// Reads a two-dimensional `.npy` file.
pub fn read_matrix<T: Element>(path: &Path) -> Result<Array2<T>, Error> {
    match read::<T>(path)? {
        (shape, values) if shape.len() == 2 => Array2::from_shape_vec((shape[0], shape[1]), values)
            .map_err(|e| Error::Format {
                path: path.to_path_buf(),
                why: e.to_string(),
            }),
        (shape, _) => Err(Error::Format {
            path: path.to_path_buf(),
            why: format!("expected a matrix, found {} dimensions", shape.len()),
        }),
    }
}

/// Reads a one-dimensional `.npy` file.
pub fn read_vector<T: Element>(path: &Path) -> Result<Array1<T>, Error> {
    match read::<T>(path)? {
        (shape, values) if shape.len() == 1 => Ok(Array1::from(values)),
        (shape, _) => Err(Error::Format {
            path: path.to_path_buf(),
            why: format!("expected a vector, found {} dimensions", shape.len()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn matrices_and_vectors_round_trip_with_aligned_data() {
        let dir = std::env::temp_dir().join(format!("npy-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let m = array![[1.5, -2.0, 3.25], [4.0, 5.0, f64::MAX]];
        let v = Array1::from(vec![3i64, -1, i64::MIN]);
        write_matrix(&dir.join("m.npy"), &m).unwrap();
        write_vector(&dir.join("v.npy"), &v).unwrap();
        assert_eq!(read_matrix::<f64>(&dir.join("m.npy")).unwrap(), m);
        assert_eq!(read_vector::<i64>(&dir.join("v.npy")).unwrap(), v);
        let bytes = std::fs::read(dir.join("m.npy")).unwrap();
        assert_eq!(
            (bytes.len() - 6 * 8) % 64,
            0,
            "values start on a 64-byte boundary"
        );
        // A vector is not a matrix, and integers are not floats.
        assert!(read_matrix::<f64>(&dir.join("v.npy")).is_err());
        assert!(read_vector::<f64>(&dir.join("v.npy")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_truncated_file_is_refused() {
        let dir = std::env::temp_dir().join(format!("npy-cut-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bytes = encode(&[4], [1.0f64, 2.0, 3.0, 4.0].into_iter());
        std::fs::write(dir.join("cut.npy"), &bytes[..bytes.len() - 3]).unwrap();
        let error = read_vector::<f64>(&dir.join("cut.npy")).unwrap_err();
        assert!(
            error.to_string().contains("29 data bytes for 4 values"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
