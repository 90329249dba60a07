//! The README's table of variants is the catalogue's: same variants, same
//! order, same fixes, same summaries. Regenerate it with
//! `heaplab::render::help::variant_table_markdown()` when the catalogue
//! changes.

use heaplab::render::help::variant_table_markdown;

#[test]
fn the_readme_variant_table_is_the_catalogue() {
    let readme = include_str!("../README.md");
    let table = variant_table_markdown();
    assert!(
        readme.contains(&table),
        "README.md's variant table differs from fraudcheck::Variant::ALL; expected:\n{table}"
    );
}
