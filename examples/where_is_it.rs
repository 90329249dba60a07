//! Writes the flamegraph of chapter 8 ("Where is it?"): the in-use bytes of
//! `retained_listener` after 2,000 requests, sampled at the default
//! interval, by call stack.
//!
//! ```text
//! cargo run --release --example where_is_it   # writes docs/retained-listener-flamegraph.svg
//! ```

use std::fs::File;
use std::io::BufWriter;

use fraudcheck::{build, data, Env, Variant};
use heapmeter::{sampling, SampleType};

#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();

fn main() -> std::io::Result<()> {
    let env = Env::new(1_000, 7);
    let payments = data::payments(64, 8, &env.store.active_ids(), 0.1);
    let check = build(Variant::RetainedListener, &env);
    let session = sampling::start_seeded(sampling::DEFAULT_INTERVAL, 7).expect("installed");
    for i in 0..2_000 {
        check.is_risky(&payments[i % 64]).expect("request");
    }
    let profile = sampling::profile();
    drop(session);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/retained-listener-flamegraph.svg"
    );
    let out = BufWriter::new(File::create(path)?);
    profile.write_flamegraph(
        out,
        SampleType::InuseSpace,
        "retained_listener: in-use bytes by call stack",
    )?;
    for site in profile.sites(SampleType::InuseSpace).iter().take(3) {
        println!("{:>12.0} B  {}", site.value, site.site);
    }
    println!(
        "exact live bytes of the process: {}; estimated in use: {:.0}",
        profile.totals.net_bytes(),
        profile.inuse_space()
    );
    println!("wrote docs/retained-listener-flamegraph.svg");
    Ok(())
}
