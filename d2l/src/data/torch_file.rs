//! Tensors saved by PyTorch's `torch.save`, such as the state dicts of published pretrained
//! models, read into `tch` tensors.
//!
//! libtorch's own reader (`Tensor::loadz_multi`) cannot unpickle the `OrderedDict` that
//! `Module.state_dict()` returns, so the pickle is parsed by the `pytorch-reader` crate and only
//! the tensors' bytes are handed to libtorch.

use super::DataError;
use pytorch_reader::{DType, PytorchReader};
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// The tensors of a `torch.save` file (every container PyTorch has written), by their dotted
/// names (`encoder.blks.0.attention.W_q.weight`), sorted by name and moved to `device`.
pub fn read_torch_file(path: &Path, device: Device) -> Result<Vec<(String, Tensor)>, DataError> {
    let invalid = |what: String| DataError::Invalid(format!("{}: {what}", path.display()));
    let reader =
        PytorchReader::new(path).map_err(|e| invalid(format!("not a file of torch.save: {e}")))?;
    let mut tensors = reader.into_tensors().into_iter().collect::<Vec<_>>();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    tensors
        .into_iter()
        .map(|(name, tensor)| {
            let kind = kind_of(tensor.dtype()).ok_or_else(|| {
                invalid(format!(
                    "{name}: element type {:?} has no tch kind",
                    tensor.dtype()
                ))
            })?;
            let bytes = tensor.read().map_err(|e| invalid(format!("{name}: {e}")))?;
            let shape: Vec<i64> = tensor.shape().iter().map(|&n| n as i64).collect();
            let value = Tensor::f_from_data_size(&bytes, &shape, kind)
                .map_err(|e| invalid(format!("{name}: {e}")))?;
            Ok((name, value.to_device(device)))
        })
        .collect()
}

/// The `tch` kind of a checkpoint's element type; libtorch has no unsigned types wider than a
/// byte.
fn kind_of(dtype: DType) -> Option<Kind> {
    Some(match dtype {
        DType::F64 => Kind::Double,
        DType::F32 => Kind::Float,
        DType::F16 => Kind::Half,
        DType::BF16 => Kind::BFloat16,
        DType::I64 => Kind::Int64,
        DType::I32 => Kind::Int,
        DType::I16 => Kind::Int16,
        DType::I8 => Kind::Int8,
        DType::U8 => Kind::Uint8,
        DType::Bool => Kind::Bool,
        DType::U64 | DType::U32 | DType::U16 => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_checkpoint_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pretrained.params");
        std::fs::write(&path, b"not a checkpoint").unwrap();
        let error = read_torch_file(&path, Device::Cpu).unwrap_err().to_string();
        assert!(error.starts_with(&path.display().to_string()), "{error}");
        assert!(error.contains("not a file of torch.save"), "{error}");
    }
}
