//! Writes the copy of the chapters that rustdoc compiles: figures embedded,
//! links pointed at modules, the counting allocator declared.
//!
//! The chapters in `docs/` show their figures as Markdown images,
//! `![what it shows](soak-memory.svg)`, which a code host renders next to
//! the file. Rustdoc does not copy the SVG files into the documentation, so
//! a relative image would be broken there: this script writes a copy of
//! each chapter into `OUT_DIR/docs/` with every image of a local SVG
//! replaced by the SVG itself, embedded in the page, and `src/chapters.rs`
//! includes that copy.
//!
//! The chapters' Rust samples measure with heapmeter, which needs its
//! counting allocator as the global allocator: the copy declares it, as
//! hidden lines, in every sample that does not declare one itself, so that
//! the samples read on a code host without lines meant for the compiler.
//!
//! The chapters link each other as files too (`[chapter 4](04-leak-or-churn.md)`),
//! which a code host follows; in the copy those links point at the
//! chapters' modules instead, which rustdoc follows (and checks).

use std::fs;
use std::io;
use std::path::Path;

fn main() -> io::Result<()> {
    println!("cargo:rerun-if-changed=docs");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("docs");
    fs::create_dir_all(&out)?;
    for entry in fs::read_dir("docs")? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "md") {
            let text = fs::read_to_string(&path)?;
            let copy = for_rustdoc(&text, Path::new("docs"))?;
            fs::write(out.join(path.file_name().expect("a file")), copy)?;
        }
    }
    Ok(())
}

/// The counting allocator, as hidden lines of a Rust sample.
const ALLOCATOR: &str = "# #[global_allocator]\n\
    # static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> =\n\
    #     heapmeter::CountingAlloc::system();\n";

/// The chapters' files and the modules of `src/chapters.rs` that hold them.
const CHAPTERS: [(&str, &str); 12] = [
    ("01-the-incident.md", "incident"),
    ("02-what-killed-the-pods.md", "what_killed_the_pods"),
    ("03-counting-allocations.md", "counting_allocations"),
    ("04-leak-or-churn.md", "leak_or_churn"),
    ("05-the-fixes.md", "fixes"),
    ("06-catching-it-in-staging.md", "catching_it_in_staging"),
    ("07-measuring-a-request.md", "measuring_a_request"),
    ("08-where-is-it.md", "where_is_it"),
    ("09-heapmeter-in-your-service.md", "in_your_service"),
    ("10-live-and-resident-memory.md", "live_and_resident_memory"),
    ("11-limits.md", "limits"),
    ("BENCHMARKS.md", "benchmarks"),
];

/// `text` with each line that is only `![alt](file.svg)` replaced by the
/// SVG of `dir/file.svg`, in a `<figure>` captioned with `alt`, and each
/// link to a chapter's file (`](04-leak-or-churn.md)`, or with a `#section`)
/// pointed at the chapter's module; each Rust sample that declares no
/// global allocator gets [`ALLOCATOR`].
fn for_rustdoc(text: &str, dir: &Path) -> io::Result<String> {
    let text = CHAPTERS.iter().fold(text.to_string(), |t, (file, module)| {
        t.replace(
            &format!("]({file})"),
            &format!("](crate::chapters::{module})"),
        )
        .replace(
            &format!("]({file}#"),
            &format!("](crate::chapters::{module}#"),
        )
    });
    let mut out = String::with_capacity(text.len());
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_end() == "```rust" {
            out += line;
            out.push('\n');
            let mut sample = lines.clone().take_while(|l| !l.starts_with("```"));
            if !sample.any(|l| l.contains("#[global_allocator]")) {
                out += ALLOCATOR;
            }
            continue;
        }
        match svg_image(line) {
            Some((alt, file)) => {
                let svg = fs::read_to_string(dir.join(file)).map_err(|e| {
                    io::Error::new(e.kind(), format!("docs/{file}, shown in a chapter: {e}"))
                })?;
                out += &figure(alt, &svg);
            }
            None => out += line,
        }
        out.push('\n');
    }
    Ok(out)
}

/// `(alt, file)` of a line `![alt](file.svg)`, for a file beside the chapter.
fn svg_image(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim().strip_prefix("![")?;
    let (alt, rest) = rest.split_once("](")?;
    let file = rest.strip_suffix(')')?;
    let local = !file.contains('/') && !file.contains(':');
    (local && file.ends_with(".svg")).then_some((alt, file))
}

/// The SVG as an image embedded in the page (a `data:` URI): an `<img>`
/// keeps the figure's scripts, styles and ids to itself, where SVG markup
/// pasted into the page would share them with rustdoc's own (a flamegraph
/// styles `#search`, which is rustdoc's search box).
fn figure(alt: &str, svg: &str) -> String {
    let alt = alt
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    format!(
        "<figure style=\"margin: 1em 0\"><img style=\"max-width: 100%\" alt=\"{alt}\" \
         src=\"data:image/svg+xml;base64,{}\"><figcaption>{alt}</figcaption></figure>",
        base64(svg.as_bytes())
    )
}

/// Standard base64 with padding (RFC 4648).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
