//! The chapters are read on a code host as well as in rustdoc, and a code
//! host shows rustdoc's hidden lines (`# …`) as they are. The only lines a
//! sample needs and a reader does not, the counting allocator's
//! declaration, are added by `build.rs` to the copy rustdoc compiles; the
//! chapters themselves carry no hidden line.

use std::fs;

#[test]
fn no_rust_sample_in_docs_has_a_hidden_line() {
    let mut hidden = Vec::new();
    for entry in fs::read_dir("docs").expect("docs/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = fs::read_to_string(&path).expect("UTF-8");
        let mut in_rust = false;
        for (n, line) in text.lines().enumerate() {
            if line.starts_with("```") {
                in_rust = !in_rust && line.trim_end() == "```rust";
            } else if in_rust && (line.starts_with("# ") || line == "#") {
                hidden.push(format!("{}:{}: {line}", path.display(), n + 1));
            }
        }
    }
    assert!(
        hidden.is_empty(),
        "hidden doctest lines:\n{}",
        hidden.join("\n")
    );
}
