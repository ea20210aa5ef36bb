//! The IDX format of MNIST and Fashion-MNIST, gzipped or raw.
//!
//! An IDX file is a big-endian header — two zero bytes, a type byte, the number of dimensions,
//! then each dimension as a `u32` — followed by the values in row-major order.
//!
//! ```
//! use d2l::data::idx::{read_idx, write_idx, IdxArray, IdxData};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("labels-idx1-ubyte.gz");
//! let labels = IdxArray::new(vec![4], IdxData::U8(vec![3, 1, 4, 1])).unwrap();
//! write_idx(&path, &labels).unwrap(); // gzipped because the name ends in .gz
//! assert_eq!(read_idx(&path).unwrap(), labels);
//! ```

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use tch::{Kind, Tensor};

use super::DataError;

/// The values of an IDX file, by element type.
#[derive(Clone, Debug, PartialEq)]
pub enum IdxData {
    /// `0x08`
    U8(Vec<u8>),
    /// `0x09`
    I8(Vec<i8>),
    /// `0x0B`
    I16(Vec<i16>),
    /// `0x0C`
    I32(Vec<i32>),
    /// `0x0D`
    F32(Vec<f32>),
    /// `0x0E`
    F64(Vec<f64>),
}

impl IdxData {
    fn len(&self) -> usize {
        match self {
            IdxData::U8(v) => v.len(),
            IdxData::I8(v) => v.len(),
            IdxData::I16(v) => v.len(),
            IdxData::I32(v) => v.len(),
            IdxData::F32(v) => v.len(),
            IdxData::F64(v) => v.len(),
        }
    }

    fn type_code(&self) -> u8 {
        match self {
            IdxData::U8(_) => 0x08,
            IdxData::I8(_) => 0x09,
            IdxData::I16(_) => 0x0B,
            IdxData::I32(_) => 0x0C,
            IdxData::F32(_) => 0x0D,
            IdxData::F64(_) => 0x0E,
        }
    }
}

/// An n-dimensional array read from or written to an IDX file.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    dims: Vec<usize>,
    data: IdxData,
}

impl IdxArray {
    /// An array of the given dimensions; the number of values must match.
    pub fn new(dims: Vec<usize>, data: IdxData) -> Result<Self, DataError> {
        let n: usize = dims.iter().product();
        if n != data.len() || dims.is_empty() || dims.len() > 255 {
            return Err(DataError::Invalid(format!(
                "IDX array of dims {dims:?} cannot hold {} values",
                data.len()
            )));
        }
        Ok(IdxArray { dims, data })
    }

    /// The dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The values.
    pub fn data(&self) -> &IdxData {
        &self.data
    }

    /// The array as a tensor of the matching kind (`u8` → `Uint8`, `i32` → `Int`, ...).
    pub fn to_tensor(&self) -> Tensor {
        let shape: Vec<i64> = self.dims.iter().map(|&d| d as i64).collect();
        let t = match &self.data {
            IdxData::U8(v) => Tensor::from_slice(v),
            IdxData::I8(v) => Tensor::from_slice(v),
            IdxData::I16(v) => Tensor::from_slice(v),
            IdxData::I32(v) => Tensor::from_slice(v),
            IdxData::F32(v) => Tensor::from_slice(v),
            IdxData::F64(v) => Tensor::from_slice(v),
        };
        t.reshape(shape)
    }

    /// An array from a tensor of kind `Uint8`, `Int8`, `Int16`, `Int`, `Float` or `Double`.
    pub fn from_tensor(t: &Tensor) -> Result<Self, DataError> {
        let dims: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
        let flat = t.to_device(tch::Device::Cpu).contiguous().flatten(0, -1);
        let conv = |e: tch::TchError| DataError::Invalid(e.to_string());
        let data = match t.kind() {
            Kind::Uint8 => IdxData::U8(Vec::<u8>::try_from(&flat).map_err(conv)?),
            Kind::Int8 => IdxData::I8(Vec::<i8>::try_from(&flat).map_err(conv)?),
            Kind::Int16 => IdxData::I16(Vec::<i16>::try_from(&flat).map_err(conv)?),
            Kind::Int => IdxData::I32(Vec::<i32>::try_from(&flat).map_err(conv)?),
            Kind::Float => IdxData::F32(Vec::<f32>::try_from(&flat).map_err(conv)?),
            Kind::Double => IdxData::F64(Vec::<f64>::try_from(&flat).map_err(conv)?),
            k => {
                return Err(DataError::Invalid(format!(
                    "IDX has no element type for {k:?}"
                )))
            }
        };
        IdxArray::new(dims, data)
    }
}

/// Reads an IDX file, gunzipping it when it starts with the gzip magic bytes.
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray, DataError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut magic = [0u8; 2];
    let peeked = {
        use std::io::BufRead;
        let buf = reader.fill_buf().map_err(|e| DataError::io(path, e))?;
        magic.iter_mut().zip(buf).for_each(|(m, b)| *m = *b);
        buf.len() >= 2
    };
    let result = if peeked && magic == [0x1f, 0x8b] {
        read_idx_from(GzDecoder::new(reader))
    } else {
        read_idx_from(reader)
    };
    result.map_err(|message| DataError::Idx {
        path: path.to_path_buf(),
        message,
    })
}

/// Reads an IDX array from an uncompressed stream; the error says what is malformed.
pub fn read_idx_from(mut r: impl Read) -> Result<IdxArray, String> {
    let mut header = [0u8; 4];
    r.read_exact(&mut header)
        .map_err(|e| format!("cannot read the IDX header: {e}"))?;
    if header[0] != 0 || header[1] != 0 {
        return Err(format!(
            "not an IDX file (magic {:02x}{:02x}{:02x}{:02x})",
            header[0], header[1], header[2], header[3]
        ));
    }
    let ndims = header[3] as usize;
    if ndims == 0 {
        return Err("IDX file with zero dimensions".into());
    }
    let mut dims = Vec::with_capacity(ndims);
    for _ in 0..ndims {
        let mut d = [0u8; 4];
        r.read_exact(&mut d)
            .map_err(|e| format!("truncated IDX header: {e}"))?;
        dims.push(u32::from_be_bytes(d) as usize);
    }
    let n = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or("IDX dimensions overflow")?;
    let width = match header[2] {
        0x08 | 0x09 => 1,
        0x0B => 2,
        0x0C | 0x0D => 4,
        0x0E => 8,
        t => return Err(format!("unknown IDX element type 0x{t:02x}")),
    };
    let mut bytes = Vec::new();
    let limit = (n as u64).saturating_mul(width as u64);
    r.by_ref()
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read IDX data: {e}"))?;
    if bytes.len() as u64 != limit {
        return Err(format!(
            "truncated IDX data: {} of {limit} bytes for dims {dims:?}",
            bytes.len()
        ));
    }
    let data = match header[2] {
        0x08 => IdxData::U8(bytes),
        0x09 => IdxData::I8(bytes.into_iter().map(|b| b as i8).collect()),
        0x0B => IdxData::I16(
            bytes
                .chunks_exact(2)
                .map(|c| i16::from_be_bytes([c[0], c[1]]))
                .collect(),
        ),
        0x0C => IdxData::I32(
            bytes
                .chunks_exact(4)
                .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        0x0D => IdxData::F32(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        _ => IdxData::F64(
            bytes
                .chunks_exact(8)
                .map(|c| f64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        ),
    };
    IdxArray::new(dims, data).map_err(|e| e.to_string())
}

/// Writes an IDX file, gzipped when the file name ends in `.gz`.
pub fn write_idx(path: impl AsRef<Path>, array: &IdxArray) -> Result<(), DataError> {
    let path = path.as_ref();
    let file = File::create(path).map_err(|e| DataError::io(path, e))?;
    let gz = path.extension().is_some_and(|e| e == "gz");
    let io = |e| DataError::io(path, e);
    if gz {
        let mut w = GzEncoder::new(BufWriter::new(file), Compression::fast());
        write_idx_to(&mut w, array).map_err(io)?;
        w.finish().and_then(|mut b| b.flush()).map_err(io)?;
    } else {
        let mut w = BufWriter::new(file);
        write_idx_to(&mut w, array).map_err(io)?;
        w.flush().map_err(io)?;
    }
    Ok(())
}

/// Writes an IDX array to an uncompressed stream.
pub fn write_idx_to(w: &mut impl Write, array: &IdxArray) -> std::io::Result<()> {
    w.write_all(&[0, 0, array.data.type_code(), array.dims.len() as u8])?;
    for &d in &array.dims {
        w.write_all(&(d as u32).to_be_bytes())?;
    }
    match &array.data {
        IdxData::U8(v) => w.write_all(v)?,
        IdxData::I8(v) => w.write_all(&v.iter().map(|x| *x as u8).collect::<Vec<_>>())?,
        IdxData::I16(v) => v.iter().try_for_each(|x| w.write_all(&x.to_be_bytes()))?,
        IdxData::I32(v) => v.iter().try_for_each(|x| w.write_all(&x.to_be_bytes()))?,
        IdxData::F32(v) => v.iter().try_for_each(|x| w.write_all(&x.to_be_bytes()))?,
        IdxData::F64(v) => v.iter().try_for_each(|x| w.write_all(&x.to_be_bytes()))?,
    }
    Ok(())
}
