//! Symbolisation of sampled stacks: instruction addresses to frames (inlined
//! ones included), the allocator's own frames removed, and names a reader
//! of `go tool pprof` can use.
//!
//! # Where names come from
//!
//! An address resolves, through the binary's DWARF, to the functions
//! inlined at it and the function that holds them, innermost first. What
//! each frame is called depends on the debug info:
//!
//! | profile | inlined frames | the function that holds them |
//! |---|---|---|
//! | `debug = "full"` (or `"limited"`) | full paths (`<kv::Store as kv::Api>::get`) | full path |
//! | `debug = "line-tables-only"` | bare names (`get`, `{async_fn#0}`) | full path, from the symbol table |
//! | no debug info | none (they are folded into their caller) | full path, from the symbol table |
//!
//! Line tables name inlined functions without their module or type, so on
//! Linux the outermost frame of each address also takes its name from the
//! binary's symbol table, which always holds the full path (the Self type
//! of `<T as Trait>::method` included) unless the binary was stripped.
//!
//! # Which frames are the allocator's
//!
//! A sampled stack starts inside the sampler: the unwinder, the sampler's
//! capture and record functions, the counting allocator, the global
//! allocator's shims and `alloc::alloc`'s functions. Those frames are
//! removed one by one (per *frame*, inlined frames included), never by
//! address: a user's function inlined at the same address as
//! `alloc::alloc::alloc` stays. A frame is the allocator's when its path —
//! the Self type's path for `<T as Trait>::method`, generic arguments left
//! out — lies in one of [`ALLOCATOR_MODULES`] or [`ENGINE_MODULES`], when
//! it implements `GlobalAlloc`, or when it is one of the allocator's
//! symbols ([`ALLOCATOR_SYMBOLS`]). A bare name from line tables is given
//! the module its source file stands for first (`alloc` in
//! `library/alloc/src/alloc.rs` is `alloc::alloc::alloc`). Everything up to
//! the outermost such frame goes: what the allocator called is the
//! allocator's too.

use std::collections::HashMap;

use crate::profile::Frame;

/// heapmeter's own modules that run inside `GlobalAlloc` calls (the
/// counting allocator, its hooks, the sampler and its stack capture, all
/// under `src/engine/`): their frames are never the program's. Module
/// prefixes, so that a file added under the engine is recognised too.
pub(crate) const ENGINE_MODULES: &[&str] = &["heapmeter::engine"];

/// Modules of other crates whose every function is allocator or unwinder
/// plumbing: `alloc::alloc` (`alloc`, `realloc`, `Global`'s `Allocator`
/// implementation, `exchange_malloc`), the default global allocator's
/// shims, and backtrace's stack walkers.
pub(crate) const ALLOCATOR_MODULES: &[&str] = &[
    "alloc::alloc",
    "std::alloc::__default_lib_allocator",
    "backtrace::backtrace",
];

/// backtrace's stack walkers (see [`allocator_frames`]).
const UNWINDER: &str = "backtrace::backtrace";

/// The allocator's symbols, by exact name: the global allocator's shims and
/// the unwinder's entry point.
pub(crate) const ALLOCATOR_SYMBOLS: &[&str] = &[
    "__rust_alloc",
    "__rust_alloc_zeroed",
    "__rust_realloc",
    "__rust_dealloc",
    "_Unwind_Backtrace",
];

/// Families of symbols generated for the global allocator: `__rg_alloc`
/// (the `#[global_allocator]`'s) and `__rdl_alloc` (the default one's).
const ALLOCATOR_SYMBOL_FAMILIES: &[&str] = &["__rg_", "__rdl_"];

/// The trait every global allocator implements.
const GLOBAL_ALLOC: &str = "core::alloc::global::GlobalAlloc";

/// Resolves addresses, once each, for the stacks of one profile.
#[derive(Default)]
pub(crate) struct Symbols {
    cache: HashMap<usize, Vec<Frame>>,
    #[cfg(target_os = "linux")]
    symtab: symtab::Symtab,
}

impl Symbols {
    /// The frames at `ip`, innermost first (one per inlined function, then
    /// the function that holds them). `first`: `ip` is where the capture
    /// started rather than a return address.
    fn resolve(&mut self, ip: usize, first: bool) -> &[Frame] {
        if !self.cache.contains_key(&ip) {
            let frames = self.resolve_uncached(ip, first);
            self.cache.insert(ip, frames);
        }
        &self.cache[&ip]
    }

    fn resolve_uncached(&mut self, ip: usize, first: bool) -> Vec<Frame> {
        let mut frames = Vec::new();
        // NOTE: a return address points after the call; the call's line
        // (and function, if the call ends it) is the one of the byte before.
        let probe = if first { ip } else { ip.saturating_sub(1) };
        backtrace::resolve(probe as *mut core::ffi::c_void, |sym| {
            let function = sym
                .name()
                .map_or_else(|| format!("{ip:#x}"), |n| format!("{n:#}"));
            frames.push(Frame {
                ip: ip as u64,
                function,
                file: sym.filename().map(|p| p.display().to_string()),
                line: sym.lineno(),
                inlined: true,
            });
        });
        if frames.is_empty() {
            frames.push(Frame {
                ip: ip as u64,
                function: format!("{ip:#x}"),
                file: None,
                line: None,
                inlined: true,
            });
        }
        if let Some(outer) = frames.last_mut() {
            outer.inlined = false;
        }
        let context: Vec<String> = frames.iter().map(|f| f.function.clone()).collect();
        for f in &mut frames {
            if let Some(path) = qualify_closure(&f.function, f.file.as_deref(), &context) {
                f.function = path;
            }
        }
        #[cfg(target_os = "linux")]
        if let Some(outer) = frames.last_mut() {
            if !is_qualified(&outer.function) {
                if let Some(name) = self.symtab.name(probe as u64) {
                    outer.function = name;
                }
            }
        }
        frames
    }

    /// Resolves a raw stack (innermost address first) and removes the
    /// allocator's frames: returns the addresses that keep at least one
    /// frame and the frames kept, innermost first.
    pub(crate) fn stack(&mut self, raw: &[usize]) -> (Vec<u64>, Vec<Frame>) {
        let mut frames: Vec<Frame> = Vec::new();
        // NOTE: a zero address ends some unwinders' walks; it is no frame.
        for (i, &ip) in raw.iter().enumerate().filter(|&(_, &ip)| ip != 0) {
            frames.extend_from_slice(self.resolve(ip, i == 0));
        }
        frames.drain(..allocator_frames(&frames));
        let ips = frames.iter().filter(|f| !f.inlined).map(|f| f.ip).collect();
        (ips, frames)
    }
}

/// How many of a stack's innermost frames are the allocator's: up to the
/// outermost frame that serves an allocation (an allocator shim, a
/// `GlobalAlloc` method, `alloc::alloc`, heapmeter's engine), and at least
/// the leading run of allocator frames (the unwinder's, inside the
/// sampler). NOTE: an unwinder frame further out is a caller, not the
/// allocator: a program that captures a backtrace allocates from inside
/// the unwinder's callback, and its frames there are its own.
pub(crate) fn allocator_frames(frames: &[Frame]) -> usize {
    let leading = frames
        .iter()
        .position(|f| !is_allocator_frame(f))
        .unwrap_or(frames.len());
    let serving = frames
        .iter()
        .rposition(|f| is_allocator_frame(f) && !is_unwinder_frame(f))
        .map_or(0, |i| i + 1);
    leading.max(serving)
}

/// Whether `frame` is the unwinder's: backtrace's stack walkers or the
/// platform unwinder's entry point.
fn is_unwinder_frame(frame: &Frame) -> bool {
    frame.function == "_Unwind_Backtrace" || in_module(&qualified_path(frame), UNWINDER)
}

/// Frees the memory symbolisation keeps between profiles: backtrace's
/// cache of parsed debug info (tens of megabytes for a service with line
/// tables), which would otherwise stay in the heap being measured.
pub(crate) fn release_caches() {
    backtrace::clear_symbol_cache();
}

/// Whether `frame` belongs to the allocator, the sampler or the unwinder
/// (see the [module](self) docs).
pub(crate) fn is_allocator_frame(frame: &Frame) -> bool {
    // NOTE: recent compilers put the shims in a `__rustc` namespace
    // (`__rustc::__rust_alloc`).
    let name = frame.function.as_str();
    let name = name.strip_prefix("__rustc::").unwrap_or(name);
    if ALLOCATOR_SYMBOLS.contains(&name)
        || ALLOCATOR_SYMBOL_FAMILIES
            .iter()
            .any(|family| name.starts_with(family))
    {
        return true;
    }
    is_allocator_path(&qualified_path(frame))
}

/// Whether a qualified function path is the allocator's.
pub(crate) fn is_allocator_path(path: &str) -> bool {
    let (owner, trait_path) = owner(path);
    trait_path.as_deref() == Some(GLOBAL_ALLOC)
        || ALLOCATOR_MODULES
            .iter()
            .chain(ENGINE_MODULES)
            .any(|module| in_module(&owner, module))
}

/// Whether `path` is `module` or lies inside it.
pub(crate) fn in_module(path: &str, module: &str) -> bool {
    path.strip_prefix(module)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

/// The path a frame's function lives at: its name when that is a path,
/// else (a bare name from line tables) the name inside the module its
/// source file stands for, generic arguments left out.
pub(crate) fn qualified_path(frame: &Frame) -> String {
    if is_qualified(&frame.function) {
        return frame.function.clone();
    }
    match frame.file.as_deref().and_then(module_of_file) {
        Some(module) => format!("{module}::{}", strip_generics(&frame.function)),
        None => frame.function.clone(),
    }
}

/// The full path of a closure, async block or async fn body that line
/// tables name bare (`{async_fn#0}`), found in the generic arguments of
/// the functions it is inlined into at the same address: axum's handler
/// call is generic over `kvstore::kv_get::{async_fn_env#0}`, the state of
/// the async fn `kvstore::kv_get`, whose body is `{async_fn#0}`. A
/// candidate counts only if it lies in the module the frame's source file
/// stands for, and only a single candidate names the frame.
pub(crate) fn qualify_closure(
    name: &str,
    file: Option<&str>,
    context: &[String],
) -> Option<String> {
    if is_qualified(name) {
        return None;
    }
    // `{kind#n}`, perhaps followed by generic arguments.
    let bare = strip_generics(name);
    let (kind, n) = bare.strip_prefix('{')?.strip_suffix('}')?.split_once('#')?;
    if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return None;
    }
    let env = format!("::{{{kind}_env#{n}}}");
    let module = module_of_file(file?)?;
    let mut found: Vec<&str> = Vec::new();
    for text in context {
        let mut from = 0;
        while let Some(at) = text[from..].find(&env) {
            let end = from + at;
            let start = text[..end]
                .rfind(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | ':' | '{' | '}' | '#')))
                .map_or(0, |i| i + 1);
            let path = &text[start..end];
            if !path.is_empty() && !found.contains(&path) {
                found.push(path);
            }
            from = end + env.len();
        }
    }
    // In the file's module, crate included; else (a package whose
    // directory is not named as its crate) in a module of the same path
    // below its crate, the standard library's crates left out.
    let strict: Vec<&str> = found
        .iter()
        .copied()
        .filter(|p| in_module(p, &module))
        .collect();
    let chosen = if strict.is_empty() {
        let (krate, file_tail) = module.split_once("::").unwrap_or((&module, ""));
        let std_crate = |c: &str| matches!(c, "core" | "alloc" | "std");
        found
            .iter()
            .copied()
            .filter(|p| {
                let (c, tail) = p.split_once("::").unwrap_or((p, ""));
                (!std_crate(c) || std_crate(krate))
                    && (file_tail.is_empty() || in_module(tail, file_tail))
            })
            .collect()
    } else {
        strict
    };
    match chosen.as_slice() {
        [path] => Some(format!("{path}::{{{kind}#{n}}}")),
        _ => None,
    }
}

/// The path that decides whose a function is, and its trait: for
/// `<T as Trait>::method`, T's path and Trait's; otherwise the function's
/// own path. Generic arguments are left out of both, so that
/// `<Vec<u8, alloc::alloc::Global> as Clone>::clone` is `alloc::vec::Vec`'s.
pub(crate) fn owner(path: &str) -> (String, Option<String>) {
    let segments = split_top(path, "::");
    match segments.first().and_then(|s| qualified_group(s)) {
        Some((self_ty, trait_ty)) => (
            strip_generics(self_ty.trim()),
            trait_ty.map(|t| strip_generics(t.trim())),
        ),
        None => (strip_generics(path), None),
    }
}

/// Whether a name is a path (`a::b`, `<T as U>::m`) rather than a bare
/// name from line tables (`get`, `{closure#0}`, `from_elem<u8>`).
pub(crate) fn is_qualified(name: &str) -> bool {
    name.starts_with('<') || split_top(name, "::").len() > 1
}

/// The module a source file stands for, from its path: a file of the
/// standard library (`library/alloc/src/raw_vec/mod.rs` is
/// `alloc::raw_vec`) or of a crate (`heapmeter-0.1.0/src/engine/table.rs`
/// is `heapmeter::engine::table`). Only used to tell whose a bare name is.
pub(crate) fn module_of_file(file: &str) -> Option<String> {
    let file = file.replace('\\', "/");
    // A target of its own: a test, example or bench file, or a binary in
    // `src/bin/`, is a crate named after its file (or its directory, for
    // `tests/name/main.rs`).
    for dir in ["/tests/", "/examples/", "/benches/", "/src/bin/"] {
        if let Some(at) = file.rfind(dir) {
            let rel = file[at + dir.len()..].strip_suffix(".rs")?;
            let mut parts: Vec<&str> = rel.split('/').collect();
            if parts.len() > 1 && parts.last() == Some(&"main") {
                parts.pop();
            }
            let mut path = vec![parts[0].replace('-', "_")];
            path.extend(parts[1..].iter().map(|p| p.to_string()));
            return Some(path.join("::"));
        }
    }
    let at = file.rfind("/src/")?;
    let krate = file[..at].rsplit('/').next()?;
    let krate = match krate.rfind('-') {
        // `name-1.2.3` (a registry crate's directory).
        Some(i) if krate[i + 1..].starts_with(|c: char| c.is_ascii_digit()) => &krate[..i],
        _ => krate,
    };
    if krate.is_empty() {
        return None;
    }
    let rel = file[at + "/src/".len()..].strip_suffix(".rs")?;
    let mut path = vec![krate.replace('-', "_")];
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if last && (*part == "mod" || (i == 0 && (*part == "lib" || *part == "main"))) {
            continue;
        }
        path.push(part.to_string());
    }
    Some(path.join("::"))
}

/// The name `go tool pprof` shows for a function (pprof's
/// `Function.name`), from its full demangled name (`Function.system_name`):
/// generic arguments left out, the Self type of `<T as Trait>::method`
/// kept with its path and the trait by its last segment, as in
/// `<kv::Store as Api>::get`.
///
/// NOTE: it must differ from the full name whenever that has `<`: pprof
/// treats a function whose two names are equal as not yet demangled and
/// cuts everything between `<` and `>`, which leaves `::get`.
pub(crate) fn display_name(full: &str) -> String {
    let segments = split_top(full, "::");
    let mut out: Vec<String> = Vec::with_capacity(segments.len());
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 && segment.starts_with('<') {
            // A turbofish's arguments (`catch_unwind::<F, R>`).
            continue;
        }
        let group = if i == 0 {
            qualified_group(segment)
        } else {
            None
        };
        out.push(match group {
            Some((self_ty, Some(trait_ty))) => {
                let trait_path = strip_generics(trait_ty.trim());
                let last = split_top(&trait_path, "::")
                    .last()
                    .map_or_else(|| trait_path.clone(), |s| s.to_string());
                format!("<{} as {last}>", strip_generics(self_ty.trim()))
            }
            Some((self_ty, None)) => strip_generics(self_ty.trim()),
            None => strip_generics(segment),
        });
    }
    let name = out.join("::");
    if name == full && name.contains('<') {
        // `<T as Trait>::m` whose trait has no path: say `T::m`.
        let (owner, _) = owner(full);
        let method = segments[1..].join("::");
        return format!("{owner}::{}", strip_generics(&method));
    }
    name
}

/// `<T as Trait>` or `<T>` as a whole segment: (T, Trait).
fn qualified_group(segment: &str) -> Option<(&str, Option<&str>)> {
    let inner = segment.strip_prefix('<')?.strip_suffix('>')?;
    // The group must be one balanced `<…>`, not `<A>::x<B>`.
    if matching_close(segment, 0) != Some(segment.len() - 1) {
        return None;
    }
    let parts = split_top(inner, " as ");
    Some(match parts.as_slice() {
        [self_ty, trait_ty] => (*self_ty, Some(*trait_ty)),
        _ => (inner, None),
    })
}

/// The index of the `>` that closes the `<` at `open`.
fn matching_close(s: &str, open: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'<' | b'(' | b'[' => depth += 1,
            b'>' if i > 0 && bytes[i - 1] == b'-' => {}
            b'>' | b')' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits `s` at `sep` where no `<…>`, `(…)` or `[…]` is open.
fn split_top<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let bytes = s.as_bytes();
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' | b'(' | b'[' => depth += 1,
            b'>' if i > 0 && bytes[i - 1] == b'-' => {}
            b'>' | b')' | b']' => depth -= 1,
            _ => {}
        }
        if depth == 0 && s[i..].starts_with(sep) {
            parts.push(&s[start..i]);
            i += sep.len();
            start = i;
            continue;
        }
        i += 1;
    }
    parts.push(&s[start..]);
    parts
}

/// `s` without generic arguments: every `<…>` that follows a name
/// (`Vec<u8>`, `from_elem<u8>`, `{closure#0}<F>`), nested ones included.
/// A `<` that opens a qualified path (`<T as U>`) is kept.
pub(crate) fn strip_generics(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let follows_name =
            i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || matches!(bytes[i - 1], b'_' | b'}'));
        let turbofish = out.ends_with("::");
        if b == b'<' && (follows_name || turbofish) {
            if turbofish {
                out.truncate(out.len() - 2);
            }
            match matching_close(s, i) {
                Some(close) => {
                    i = close + 1;
                    continue;
                }
                None => return out,
            }
        }
        let c = s[i..].chars().next().unwrap_or('?');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// Symbol table names on Linux, for the outermost frame of each address.
#[cfg(target_os = "linux")]
mod symtab {
    use std::collections::HashMap;
    use std::fs::File;

    use object::{Object, ObjectSegment, ObjectSymbol, ObjectSymbolTable, SymbolKind};

    /// One mapped file of the process, from `/proc/self/maps`.
    struct Mapping {
        start: u64,
        end: u64,
        offset: u64,
        path: String,
    }

    /// A file's executable segments and function symbols.
    struct Objfile {
        /// (file offset, size in the file, virtual address) of each
        /// loaded segment.
        segments: Vec<(u64, u64, u64)>,
        /// (address, size, mangled name) of each function, by address.
        functions: Vec<(u64, u64, String)>,
    }

    /// Loaded on first use, for one profile, then dropped with it.
    #[derive(Default)]
    pub(super) struct Symtab {
        mappings: Option<Vec<Mapping>>,
        files: HashMap<String, Option<Objfile>>,
    }

    impl Symtab {
        /// The demangled name (without its hash) of the function holding
        /// `address`, if the file mapped there has a symbol table that
        /// names it.
        pub(super) fn name(&mut self, address: u64) -> Option<String> {
            let mappings = self.mappings.get_or_insert_with(read_maps);
            let m = mappings
                .iter()
                .find(|m| (m.start..m.end).contains(&address))?;
            let offset = address - m.start + m.offset;
            let file = self
                .files
                .entry(m.path.clone())
                .or_insert_with(|| load(&m.path))
                .as_ref()?;
            let &(seg_offset, _, seg_address) = file
                .segments
                .iter()
                .find(|&&(o, size, _)| (o..o + size).contains(&offset))?;
            let svma = offset - seg_offset + seg_address;
            let i = file.functions.partition_point(|&(a, _, _)| a <= svma);
            let (start, size, name) = file.functions.get(i.checked_sub(1)?)?;
            (svma < start + (*size).max(1))
                .then(|| format!("{:#}", backtrace::SymbolName::new(name.as_bytes())))
        }
    }

    fn read_maps() -> Vec<Mapping> {
        let Ok(text) = std::fs::read_to_string("/proc/self/maps") else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|line| {
                // start-end perms offset dev inode path
                let mut fields = line.splitn(6, ' ');
                let (start, end) = fields.next()?.split_once('-')?;
                let perms = fields.next()?;
                let offset = fields.next()?;
                let path = fields.nth(2)?.trim_start();
                if !perms.contains('x') || !path.starts_with('/') {
                    return None;
                }
                Some(Mapping {
                    start: u64::from_str_radix(start, 16).ok()?,
                    end: u64::from_str_radix(end, 16).ok()?,
                    offset: u64::from_str_radix(offset, 16).ok()?,
                    path: path.to_string(),
                })
            })
            .collect()
    }

    fn load(path: &str) -> Option<Objfile> {
        let file = File::open(path).ok()?;
        // NOTE: read on demand, so only the headers, the symbol table and
        // its strings are read, not the debug info.
        let data = object::ReadCache::new(file);
        let obj = object::File::parse(&data).ok()?;
        let segments = obj
            .segments()
            .map(|s| {
                let (offset, size) = s.file_range();
                (offset, size, s.address())
            })
            .collect();
        let table = obj.symbol_table().or_else(|| obj.dynamic_symbol_table())?;
        let mut functions: Vec<(u64, u64, String)> = table
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.address() != 0)
            .filter_map(|s| Some((s.address(), s.size(), s.name().ok()?.to_string())))
            .collect();
        functions.sort_unstable_by_key(|&(a, _, _)| a);
        Some(Objfile {
            segments,
            functions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(function: &str, file: Option<&str>) -> Frame {
        Frame {
            ip: 1,
            function: function.to_string(),
            file: file.map(str::to_string),
            line: None,
            inlined: false,
        }
    }

    #[test]
    fn display_names_keep_the_self_type() {
        for (full, shown) in [
            (
                "<kv::AppState as kv::Store>::get",
                "<kv::AppState as Store>::get",
            ),
            (
                "<F as axum::handler::Handler<(M,T1,T2),S>>::call::{{closure}}",
                "<F as Handler>::call::{{closure}}",
            ),
            (
                "<shop::checks::listener::Listener<C,S> as shop::Check>::is_risky",
                "<shop::checks::listener::Listener as Check>::is_risky",
            ),
            ("alloc::vec::Vec<T,A>::push", "alloc::vec::Vec::push"),
            (
                "core::ptr::drop_in_place<alloc::vec::Vec<u8>>",
                "core::ptr::drop_in_place",
            ),
            (
                "is_risky<shop::cache::Cache, shop::store::Store>",
                "is_risky",
            ),
            (
                "<alloc::vec::Vec<u8, alloc::alloc::Global> as core::clone::Clone>::clone",
                "<alloc::vec::Vec as Clone>::clone",
            ),
            ("<[T]>::to_vec", "[T]::to_vec"),
            ("<kv::AppState>::get", "kv::AppState::get"),
            ("<T as Local>::get", "T::get"),
            (
                "map_or_else<&str, alloc::string::String, fn(&str) -> alloc::string::String>",
                "map_or_else",
            ),
            (
                "{closure#0}<fn(&core::task::wake::Waker), ()>",
                "{closure#0}",
            ),
            ("kv::kv_get::{{closure}}", "kv::kv_get::{{closure}}"),
            ("main", "main"),
            (
                "std::panic::catch_unwind::<std::rt::lang_start_internal::{closure#0}, isize>",
                "std::panic::catch_unwind",
            ),
        ] {
            let name = display_name(full);
            assert_eq!(name, shown, "{full}");
            assert!(
                !full.contains('<') || name != full,
                "pprof keeps only names that differ from the full name: {full}"
            );
        }
    }

    #[test]
    fn allocator_frames_are_matched_by_path_never_by_substring() {
        for name in [
            "__rust_alloc",
            "__rustc::__rust_alloc",
            "__rustc::__rust_realloc",
            "__rust_realloc",
            "__rg_alloc",
            "__rdl_alloc_zeroed",
            "_Unwind_Backtrace",
            "alloc::alloc::alloc",
            "alloc::alloc::Global::alloc_impl",
            "<alloc::alloc::Global as core::alloc::Allocator>::allocate",
            "<heapmeter::engine::alloc::CountingAlloc<A> as core::alloc::global::GlobalAlloc>::alloc",
            "<my::Wrapper as core::alloc::global::GlobalAlloc>::realloc",
            "heapmeter::engine::hooks::allocated",
            "heapmeter::engine::stack::capture::{{closure}}",
            "heapmeter::engine::sample::record",
            "backtrace::backtrace::libunwind::trace::trace_fn",
            "backtrace::backtrace::trace_unsynchronized<F>",
        ] {
            assert!(is_allocator_frame(&frame(name, None)), "{name}");
        }
        for name in [
            "<alloc::vec::Vec<u8, alloc::alloc::Global> as core::clone::Clone>::clone",
            "alloc::raw_vec::RawVec<u8, alloc::alloc::Global>::allocate_in",
            "kv::kv_get::{{closure}}",
            "heapmeter::sampling::profile",
            "heapmeter::measure",
            "heapmeter::allocator_free_fn",
            "heapmeter::engineering::f",
            "alloc::allocx::f",
            "backtrace::capture::Backtrace::new",
            "my::__rust_allocate",
        ] {
            assert!(!is_allocator_frame(&frame(name, None)), "{name}");
        }
    }

    #[test]
    fn the_cut_ends_at_the_allocator_not_at_a_caller_s_unwinder() {
        let stack: Vec<Frame> = [
            "backtrace::backtrace::libunwind::trace::trace_fn",
            "_Unwind_Backtrace",
            "backtrace::backtrace::trace_unsynchronized<F>",
            "heapmeter::engine::stack::capture",
            "heapmeter::engine::hooks::allocated",
            "<heapmeter::engine::alloc::CountingAlloc<A> as core::alloc::global::GlobalAlloc>::alloc",
            "__rg_alloc",
            "alloc::alloc::alloc",
            "alloc::raw_vec::RawVec<T,A>::grow_one",
            "alloc::vec::Vec<T,A>::push",
            "my::keep_frames::{{closure}}",
            "backtrace::backtrace::libunwind::trace::trace_fn",
            "_Unwind_Backtrace",
            "backtrace::backtrace::trace<F>",
            "my::keep_frames",
            "main",
        ]
        .iter()
        .map(|name| frame(name, None))
        .collect();
        assert_eq!(allocator_frames(&stack), 8);
        // The sampler's own part alone is cut too.
        assert_eq!(allocator_frames(&stack[..3]), 3);
        assert_eq!(allocator_frames(&stack[14..]), 0);
    }

    #[test]
    fn bare_names_from_line_tables_take_their_file_s_module() {
        let std_alloc = "/rustc/0123abcd/library/alloc/src/alloc.rs";
        assert!(is_allocator_frame(&frame("alloc", Some(std_alloc))));
        assert!(is_allocator_frame(&frame("alloc_impl", Some(std_alloc))));
        assert!(is_allocator_frame(&frame(
            "alloc<std::alloc::System>",
            Some("/home/me/.cargo/registry/src/index/heapmeter-0.1.0/src/engine/alloc.rs")
        )));
        assert!(is_allocator_frame(&frame(
            "record",
            Some("/work/heaplab/crates/heapmeter/src/engine/sample.rs")
        )));
        for (name, file) in [
            (
                "from_elem<u8>",
                "/rustc/0123abcd/library/alloc/src/vec/mod.rs",
            ),
            ("kv_get", "/srv/kv/src/main.rs"),
            ("{async_fn#0}", "/srv/kv/src/alloc.rs"),
            ("profile", "/work/heaplab/crates/heapmeter/src/sampling.rs"),
        ] {
            assert!(
                !is_allocator_frame(&frame(name, Some(file))),
                "{name} {file}"
            );
        }
        assert_eq!(
            module_of_file("/rustc/x/library/alloc/src/raw_vec/mod.rs").as_deref(),
            Some("alloc::raw_vec")
        );
        assert_eq!(
            module_of_file("/r/backtrace-0.3.77/src/backtrace/libunwind.rs").as_deref(),
            Some("backtrace::backtrace::libunwind")
        );
        assert_eq!(
            module_of_file("/srv/my-app/src/main.rs").as_deref(),
            Some("my_app")
        );
        assert_eq!(module_of_file("main.rs"), None);
        assert_eq!(
            module_of_file("/w/crates/heapmeter/tests/a_profile_frees.rs").as_deref(),
            Some("a_profile_frees")
        );
        assert_eq!(
            module_of_file("/w/kv/tests/http/main.rs").as_deref(),
            Some("http")
        );
        assert_eq!(
            module_of_file("/w/kv/src/bin/kv-admin.rs").as_deref(),
            Some("kv_admin")
        );
    }

    #[test]
    fn closures_take_their_path_from_the_functions_they_are_inlined_into() {
        let handler = "{async_block#0}<fn(axum::extract::state::State<kvstore::AppState>) -> kvstore::kv_get::{async_fn_env#0}, kvstore::kv_get::{async_fn_env#0}, kvstore::AppState>";
        let context = vec!["{async_fn#0}".to_string(), handler.to_string()];
        assert_eq!(
            qualify_closure("{async_fn#0}", Some("/srv/kvstore/src/lib.rs"), &context).as_deref(),
            Some("kvstore::kv_get::{async_fn#0}")
        );
        // Not a closure of that file's module, or another index: unknown.
        assert_eq!(
            qualify_closure("{async_fn#0}", Some("/srv/kvstore/src/other.rs"), &context),
            None
        );
        assert_eq!(
            qualify_closure("{async_fn#1}", Some("/srv/kvstore/src/lib.rs"), &context),
            None
        );
        // A closure passed through the standard library's iterators: the
        // library's own closures are no candidates for a file of `kv`.
        let iter = vec![
            "fold<core::iter::adapters::map::map_fold::{closure_env#0}<i32, kv::kept::{closure_env#0}>, alloc::vec::{impl#21}::extend_trusted::{closure_env#0}<u8>>".to_string(),
        ];
        assert_eq!(
            qualify_closure("{closure#0}", Some("/srv/kv/src/main.rs"), &iter).as_deref(),
            Some("kv::kept::{closure#0}")
        );
        // A package directory that is not its crate's name.
        let staging = vec!["g<heaplab_staging::service::handle::{async_fn_env#0}>".to_string()];
        assert_eq!(
            qualify_closure(
                "{async_fn#0}",
                Some("/w/crates/staging/src/service.rs"),
                &staging
            )
            .as_deref(),
            Some("heaplab_staging::service::handle::{async_fn#0}")
        );
        // Two candidates: no guess.
        let two = vec![format!(
            "f<a::x::{{closure_env#0}}, a::y::{{closure_env#0}}>"
        )];
        assert_eq!(
            qualify_closure("{closure#0}", Some("/a/src/lib.rs"), &two),
            None
        );
        let nested = vec![
            "on<shop::checks::listener::{impl#3}::is_risky::{closure_env#0}<C, S>>".to_string(),
        ];
        assert_eq!(
            qualify_closure(
                "{closure#0}<C, S>",
                Some("/w/shop/src/checks/listener.rs"),
                &nested
            )
            .as_deref(),
            Some("shop::checks::listener::{impl#3}::is_risky::{closure#0}")
        );
        assert_eq!(
            qualify_closure("kv_get", Some("/srv/kvstore/src/lib.rs"), &context),
            None
        );
    }

    #[test]
    fn owner_is_the_self_type_without_generics() {
        assert_eq!(
            owner("<alloc::vec::Vec<u8, alloc::alloc::Global> as core::clone::Clone>::clone"),
            (
                "alloc::vec::Vec".to_string(),
                Some("core::clone::Clone".to_string())
            )
        );
        assert_eq!(
            owner("alloc::alloc::Global::alloc_impl"),
            ("alloc::alloc::Global::alloc_impl".to_string(), None)
        );
    }
}
