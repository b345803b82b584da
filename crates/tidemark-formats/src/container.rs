//! Containers: folders, zip archives and gzip files, expanded into the inputs inside them.
//!
//! Investigators receive exports as a folder of blobs, a zip from a colleague, or a `.gz` from a
//! collector. Each file inside becomes one input with its own format detection and its own SHA-256;
//! the container's own hash is kept beside it, so both "what did we receive" and "what did we read"
//! can be proven. Containers are recognised by content (`PK\x03\x04`, `\x1f\x8b`), never by name, and
//! streamed: nothing is unpacked to disk or held whole in memory. Hidden files and macOS resource
//! forks (`__MACOSX/`, `._*`, `.DS_Store`) are skipped, in folders and archives alike.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Where an input's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    /// A plain file (gzip is undone on open).
    File(PathBuf),
    /// A member of a zip archive, by index.
    ZipMember { archive: PathBuf, index: usize },
}

/// One input: a file, or a member of a zip archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// How the input is named to people: the path, `archive.zip › folder/member.json`, with
    /// `(gzip)` when it was decompressed.
    pub display: String,
    /// The archive or gzip file this input was unpacked from.
    pub container: Option<PathBuf>,
    /// Expected size in bytes for progress: exact for files and zip members, the compressed size for
    /// gzip.
    pub size_hint: u64,
    /// Whether the investigator picked this file itself (rather than a folder or archive holding it).
    /// A picked file in no known format is an error; a file found inside is skipped and reported.
    pub picked: bool,
    origin: Origin,
}

/// A container file and its hash (the bytes as received).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerFile {
    /// Path of the archive or gzip file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of the whole file.
    pub sha256: [u8; 32],
}

/// The result of expanding what an investigator picked.
#[derive(Debug, Default)]
pub struct Expansion {
    /// Every input, in a deterministic order (arguments in order, folder entries by name, archive
    /// members by name).
    pub inputs: Vec<Input>,
    /// Every archive or gzip file met on the way, hashed.
    pub containers: Vec<ContainerFile>,
}

fn hidden(name: &str) -> bool {
    name.starts_with('.') || name.starts_with("._") || name == "__MACOSX" || name == "Thumbs.db"
}

fn magic(path: &Path) -> std::io::Result<[u8; 4]> {
    let mut m = [0u8; 4];
    let mut f = File::open(path)?;
    let mut got = 0;
    while got < 4 {
        let n = f.read(&mut m[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(m)
}

fn hash_file(path: &Path) -> std::io::Result<(u64, [u8; 32])> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, h.finalize().into()))
}

fn with_path(path: &Path, e: &std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Expands files, folders (recursively), zip archives and gzip files into inputs.
pub fn expand(paths: &[PathBuf]) -> std::io::Result<Expansion> {
    let mut out = Expansion::default();
    for p in paths {
        expand_one(p, true, &mut out)?;
    }
    Ok(out)
}

fn expand_one(p: &Path, picked: bool, out: &mut Expansion) -> std::io::Result<()> {
    let meta = std::fs::metadata(p).map_err(|e| with_path(p, &e))?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| with_path(p, &e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| !p.file_name().is_some_and(|n| hidden(&n.to_string_lossy())))
            .collect();
        entries.sort();
        for e in entries {
            expand_one(&e, false, out)?;
        }
        return Ok(());
    }
    let m = magic(p).map_err(|e| with_path(p, &e))?;
    if m == *b"PK\x03\x04" || m == *b"PK\x05\x06" {
        let (size, sha256) = hash_file(p).map_err(|e| with_path(p, &e))?;
        out.containers.push(ContainerFile { path: p.to_owned(), size, sha256 });
        let archive = zip::ZipArchive::new(File::open(p).map_err(|e| with_path(p, &e))?)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", p.display())))?;
        let mut archive = archive;
        let mut members: Vec<(String, usize, u64)> = Vec::new();
        for i in 0..archive.len() {
            let m = archive.by_index_raw(i).map_err(|e| invalid(p, e))?;
            let name = m.name().to_owned();
            if !(name.ends_with('/') || name.split('/').any(hidden)) {
                members.push((name, i, m.size()));
            }
        }
        members.sort();
        for (name, index, size) in members {
            out.inputs.push(Input {
                display: format!("{} › {name}", p.display()),
                container: Some(p.to_owned()),
                size_hint: size,
                picked: false,
                origin: Origin::ZipMember { archive: p.to_owned(), index },
            });
        }
    } else if m[..2] == [0x1f, 0x8b] {
        let (size, sha256) = hash_file(p).map_err(|e| with_path(p, &e))?;
        out.containers.push(ContainerFile { path: p.to_owned(), size, sha256 });
        out.inputs.push(Input {
            display: format!("{} (gzip)", p.display()),
            container: Some(p.to_owned()),
            size_hint: size,
            picked,
            origin: Origin::File(p.to_owned()),
        });
    } else {
        out.inputs.push(Input {
            display: p.display().to_string(),
            container: None,
            size_hint: meta.len(),
            picked,
            origin: Origin::File(p.to_owned()),
        });
    }
    Ok(())
}

impl Input {
    /// Opens the input's bytes (decompressed where it is gzip or a zip member), from the start.
    pub fn open(&self) -> std::io::Result<Box<dyn Read + Send>> {
        let raw: Box<dyn Read + Send> = match &self.origin {
            Origin::File(p) => Box::new(File::open(p).map_err(|e| with_path(p, &e))?),
            Origin::ZipMember { archive, index } => open_member(archive, *index)?,
        };
        let mut buffered = BufReader::with_capacity(1 << 20, raw);
        let head = buffered.fill_buf()?;
        if head.len() >= 2 && head[..2] == [0x1f, 0x8b] {
            Ok(Box::new(flate2::bufread::MultiGzDecoder::new(buffered)))
        } else {
            Ok(Box::new(buffered))
        }
    }
}

fn invalid(archive: &Path, what: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {what}", archive.display()))
}

/// A reader over one member's bytes that owns its file handle: the member's data is located through
/// the archive's directory, then read straight from the file (stored) or through a deflate decoder.
fn open_member(archive: &Path, index: usize) -> std::io::Result<Box<dyn Read + Send>> {
    let file = File::open(archive).map_err(|e| with_path(archive, &e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| invalid(archive, e))?;
    let (start, len, method, name) = {
        let m = zip.by_index_raw(index).map_err(|e| invalid(archive, e))?;
        if m.encrypted() {
            return Err(invalid(archive, format!("{} is encrypted; unpack it with its password first", m.name())));
        }
        (m.data_start(), m.compressed_size(), m.compression(), m.name().to_owned())
    };
    let mut file = File::open(archive).map_err(|e| with_path(archive, &e))?;
    file.seek(std::io::SeekFrom::Start(start))?;
    let body = BufReader::with_capacity(1 << 20, file.take(len));
    match method {
        zip::CompressionMethod::Stored => Ok(Box::new(body)),
        zip::CompressionMethod::Deflated => Ok(Box::new(flate2::bufread::DeflateDecoder::new(body))),
        other => Err(invalid(
            archive,
            format!("{name} is compressed with {other:?}, which Tidemark cannot read; re-zip it with standard (deflate) compression"),
        )),
    }
}
