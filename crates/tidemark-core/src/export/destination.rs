//! Where an export goes when the investigator types the path instead of using the save dialog: the
//! path is checked before anything is written, and every problem is said in words (empty, not a full
//! path, a folder, a folder that does not exist), so the dialog can show it beside the field.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, ErrorCode, Result};
use crate::model::ExportFormat;

/// A typed export destination, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportDestination {
    /// The full path the export will be written to, with the format's extension.
    pub path: String,
    /// The folder it goes in.
    pub folder: String,
    /// A file is already there and would be replaced (with its manifest).
    pub replaces: bool,
}

fn invalid(msg: String) -> Error {
    Error::new(ErrorCode::ExportInvalid, msg)
}

/// The file extension of a format (`csv`, `jsonl`, `xlsx`, `html`).
fn extension(format: ExportFormat) -> &'static str {
    format.as_str()
}

/// Checks a typed destination for an export in `format`: a full path (a leading `~` is the home folder)
/// in a folder that exists. The format's extension is added when the name lacks it.
pub fn check_destination(text: &str, format: ExportFormat) -> Result<ExportDestination> {
    let example = if cfg!(windows) { r"C:\Users\you\Documents\events.csv" } else { "/home/you/Documents/events.csv" };
    let typed = text.trim();
    if typed.is_empty() {
        return Err(invalid(format!(
            "Type where to save the export, such as {example}, or press Choose… to pick the place."
        )));
    }
    let mut path = expand_home(typed);
    if !path.is_absolute() {
        return Err(invalid(format!(
            "\"{typed}\" is not a full path. Type the whole path from the top, such as {example}, or press Choose…."
        )));
    }
    if path.is_dir() {
        return Err(invalid(format!(
            "{} is a folder. Add a file name at the end, such as {}.",
            path.display(),
            path.join(format!("events.{}", extension(format))).display()
        )));
    }
    let ext = extension(format);
    let has_ext = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case(ext));
    if !has_ext {
        let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(format!(".{ext}"));
        path.set_file_name(name);
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => return Err(invalid(format!("{} has no folder. Type the whole path, such as {example}.", path.display()))),
    };
    if !folder.is_dir() {
        let what = if folder.exists() { "is not a folder" } else { "does not exist" };
        return Err(invalid(format!(
            "The folder {} {what}. Create it first, type another folder, or press Choose… to pick one.",
            folder.display()
        )));
    }
    if path.is_dir() {
        return Err(invalid(format!("{} is a folder. Choose another file name.", path.display())));
    }
    Ok(ExportDestination {
        replaces: path.exists(),
        path: path.display().to_string(),
        folder: folder.display().to_string(),
    })
}

/// `~` and `~/…` (or `~\…`) as the home folder; anything else as typed.
fn expand_home(typed: &str) -> PathBuf {
    let rest = if typed == "~" { Some("") } else { typed.strip_prefix("~/").or_else(|| typed.strip_prefix("~\\")) };
    match (rest, home()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(typed),
    }
}

fn home() -> Option<PathBuf> {
    let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    std::env::var_os(var).filter(|h| !h.is_empty()).map(PathBuf::from).filter(|h| Path::new(h).is_absolute())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_path_is_checked_and_gets_its_extension() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ok = check_destination(&format!("  {}  ", d.join("alice").display()), ExportFormat::Csv).unwrap();
        assert_eq!(ok.path, d.join("alice.csv").display().to_string());
        assert_eq!(ok.folder, d.display().to_string());
        assert!(!ok.replaces);
        let same = check_destination(&d.join("alice.XLSX").display().to_string(), ExportFormat::Xlsx).unwrap();
        assert_eq!(same.path, d.join("alice.XLSX").display().to_string(), "the extension in any case is kept");
        std::fs::write(d.join("old.jsonl"), "x").unwrap();
        assert!(check_destination(&d.join("old.jsonl").display().to_string(), ExportFormat::Jsonl).unwrap().replaces);

        for (text, needle) in [
            (String::new(), "Type where to save"),
            ("events.csv".to_owned(), "not a full path"),
            (d.display().to_string(), "is a folder"),
            (d.join("missing").join("x.csv").display().to_string(), "does not exist"),
            (d.join("old.jsonl").join("x.csv").display().to_string(), "is not a folder"),
        ] {
            let e = check_destination(&text, ExportFormat::Csv).unwrap_err();
            assert_eq!(e.code, ErrorCode::ExportInvalid);
            assert!(e.message.contains(needle), "{text}: {}", e.message);
        }
    }
}
