//! Unpacking `.zip`, `.tar`, `.tar.gz`/`.tgz` archives without letting an entry escape the
//! target directory.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Component, Path, PathBuf};

use super::DataError;

enum Kind {
    Zip,
    Tar,
    TarGz,
}

fn kind_of(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    if name.ends_with(".zip") {
        Some(Kind::Zip)
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        Some(Kind::TarGz)
    } else if name.ends_with(".tar") {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// Unpacks `archive` (`.zip`, `.tar`, `.tar.gz` or `.tgz`) into `dest` and returns the paths
/// written (files and directories).
///
/// Every entry must stay inside `dest`: absolute paths, `..` components and links (symbolic or
/// hard) are refused with [`DataError::UnsafeEntry`] before anything of that entry is written.
pub fn extract(
    archive: impl AsRef<Path>,
    dest: impl AsRef<Path>,
) -> Result<Vec<PathBuf>, DataError> {
    let archive = archive.as_ref();
    let dest = dest.as_ref();
    let kind =
        kind_of(archive).ok_or_else(|| DataError::UnsupportedArchive(archive.to_path_buf()))?;
    std::fs::create_dir_all(dest).map_err(|e| DataError::io(dest, e))?;
    let file = File::open(archive).map_err(|e| DataError::io(archive, e))?;
    let reader = BufReader::new(file);
    match kind {
        Kind::Zip => extract_zip(archive, reader, dest),
        Kind::Tar => extract_tar(archive, reader, dest),
        Kind::TarGz => extract_tar(archive, flate2::read::GzDecoder::new(reader), dest),
    }
}

/// `dest` joined with an entry name, or why the name is refused.
fn safe_join(dest: &Path, name: &str) -> Result<PathBuf, String> {
    if name.contains('\0') {
        return Err("the name contains a NUL byte".into());
    }
    let normalised = name.replace('\\', "/");
    if normalised.starts_with('/') {
        return Err("absolute path".into());
    }
    let mut out = dest.to_path_buf();
    let mut depth = 0usize;
    for part in normalised.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("the path leaves the target directory (..)".into()),
            p => {
                // A Windows drive or any other prefix component.
                if Path::new(p)
                    .components()
                    .any(|c| !matches!(c, Component::Normal(_)))
                    || p.contains(':')
                {
                    return Err("the path has a drive or prefix".into());
                }
                out.push(p);
                depth += 1;
            }
        }
    }
    if depth == 0 {
        return Err("empty path".into());
    }
    Ok(out)
}

fn unsafe_entry(archive: &Path, entry: &str, reason: impl Into<String>) -> DataError {
    DataError::UnsafeEntry {
        archive: archive.to_path_buf(),
        entry: entry.into(),
        reason: reason.into(),
    }
}

fn archive_err(archive: &Path, e: impl std::fmt::Display) -> DataError {
    DataError::Archive {
        path: archive.to_path_buf(),
        message: e.to_string(),
    }
}

fn write_entry(target: &Path, mut content: impl Read) -> Result<(), DataError> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
    }
    let mut out = File::create(target).map_err(|e| DataError::io(target, e))?;
    std::io::copy(&mut content, &mut out).map_err(|e| DataError::io(target, e))?;
    Ok(())
}

fn extract_zip(
    archive: &Path,
    reader: impl Read + std::io::Seek,
    dest: &Path,
) -> Result<Vec<PathBuf>, DataError> {
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| archive_err(archive, e))?;
    // Check every entry before writing anything, so a bad archive leaves no partial output.
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|e| archive_err(archive, e))?;
        let name = entry.name().to_string();
        safe_join(dest, &name).map_err(|r| unsafe_entry(archive, &name, r))?;
        if entry.is_symlink() {
            return Err(unsafe_entry(archive, &name, "links are not extracted"));
        }
    }
    let mut written = Vec::new();
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| archive_err(archive, e))?;
        let name = entry.name().to_string();
        let target = safe_join(dest, &name).map_err(|r| unsafe_entry(archive, &name, r))?;
        if entry.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| DataError::io(&target, e))?;
        } else {
            write_entry(&target, entry)?;
        }
        written.push(target);
    }
    Ok(written)
}

fn extract_tar(archive: &Path, reader: impl Read, dest: &Path) -> Result<Vec<PathBuf>, DataError> {
    // A tar stream is read once, so entries are checked as they come; a refused entry stops the
    // extraction before it is written.
    let mut tar = tar::Archive::new(reader);
    let mut written = Vec::new();
    for entry in tar.entries().map_err(|e| archive_err(archive, e))? {
        let mut entry = entry.map_err(|e| archive_err(archive, e))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let target = safe_join(dest, &name).map_err(|r| unsafe_entry(archive, &name, r))?;
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            return Err(unsafe_entry(archive, &name, "links are not extracted"));
        }
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| DataError::io(&target, e))?;
        } else if kind.is_file()
            || kind == tar::EntryType::Continuous
            || kind == tar::EntryType::GNUSparse
        {
            write_entry(&target, &mut entry)?;
        } else {
            // pax headers, GNU long names (already applied by `tar`), devices, fifos: skipped.
            continue;
        }
        written.push(target);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_join_refuses_escapes() {
        let d = Path::new("/data");
        assert_eq!(safe_join(d, "a/b.txt").unwrap(), Path::new("/data/a/b.txt"));
        assert_eq!(safe_join(d, "./a//b").unwrap(), Path::new("/data/a/b"));
        assert!(safe_join(d, "../x").is_err());
        assert!(safe_join(d, "a/../../x").is_err());
        assert!(safe_join(d, "/etc/passwd").is_err());
        assert!(safe_join(d, "..\\x").is_err());
        assert!(safe_join(d, "C:/x").is_err());
        assert!(safe_join(d, "").is_err());
    }
}
