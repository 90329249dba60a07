//! The engine (`src/engine/`, everything that runs inside `GlobalAlloc`)
//! is a leaf: its code names nothing of the crate outside it. The public
//! modules call down into it, never the reverse.

use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("readable source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The code of a line: what comes before a `//` comment.
fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or_default()
}

/// The paths in `code` that leave the engine: `crate::` not followed by
/// `engine`, `heapmeter::`, and `super::` from the engine's root module
/// (or two levels up from below it).
fn escapes(code: &str, at_root: bool) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `pub(crate)`-like words end in `crate` too
        }
        if !code[i + "crate::".len()..].starts_with("engine") {
            found.push(code[i..].trim().to_string());
        }
    }
    if code.contains("heapmeter::") || code.contains("super::super") {
        found.push(code.trim().to_string());
    }
    if at_root && code.contains("super::") {
        found.push(code.trim().to_string());
    }
    found
}

#[test]
fn no_engine_file_names_a_module_above_it() {
    let engine = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    let files = sources(&engine);
    assert!(files.len() >= 5, "the engine's files: {files:?}");
    let mut offences = Vec::new();
    for file in &files {
        let at_root = file.file_name().is_some_and(|n| n == "mod.rs");
        let text = fs::read_to_string(file).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            for path in escapes(code(line), at_root) {
                offences.push(format!("{}:{}: {path}", file.display(), n + 1));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "the engine imports from above it:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_check_finds_an_import_from_above() {
    assert_eq!(escapes("use crate::scope::PeakWindow;", false).len(), 1);
    assert_eq!(escapes("let s = crate::Stats::default();", false).len(), 1);
    assert_eq!(escapes("use super::Profile;", true).len(), 1);
    assert!(escapes("use crate::engine::slot::Slot;", false).is_empty());
    assert!(escapes("pub(crate) fn f() {}", false).is_empty());
    assert!(escapes("use super::slot::Slot;", false).is_empty());
}
