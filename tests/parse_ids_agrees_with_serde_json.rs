//! `fraudcheck::load::parse_ids` reads the cached list with a fast path of
//! its own: it must give serde_json's answer, serde_json's error message and
//! serde_json's allocations (the replay's figures depend on them) for every
//! input, plain or not.

use fraudcheck::load::parse_ids;
use fraudcheck::CheckError;
use heapmeter::CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc<std::alloc::System> = CountingAlloc::new(std::alloc::System);

/// What serde_json alone makes of `bytes`, as `parse_ids` reports it.
fn serde(bytes: &[u8]) -> Result<Vec<u64>, CheckError> {
    serde_json::from_slice(bytes).map_err(|e| CheckError::CorruptPayload {
        reason: e.to_string(),
    })
}

/// A deterministic generator (SplitMix64), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A JSON array of `len` ids of every width, with random whitespace.
fn array(rng: &mut Rng, len: usize) -> String {
    let ws = |rng: &mut Rng| [" ", "", "", "\n", "\t", "\r\n", "  "][rng.below(7) as usize];
    let mut out = format!("{}[{}", ws(rng), ws(rng));
    for i in 0..len {
        if i > 0 {
            out += &format!("{},{}", ws(rng), ws(rng));
        }
        let digits = 1 + rng.below(20) as u32;
        let id = rng.next() % 10u64.saturating_pow(digits).max(10);
        out += &id.to_string();
    }
    out + &format!("{}]{}", ws(rng), ws(rng))
}

#[test]
fn every_input_gets_serde_jsons_answer_or_error() {
    let mut inputs: Vec<Vec<u8>> = [
        "[]",
        " [ ] ",
        "[0]",
        "[00]",
        "[01]",
        "[-0]",
        "[-1]",
        "[1,]",
        "[,1]",
        "[1 2]",
        "[1.5]",
        "[1e3]",
        "[1E3]",
        "[123456789012.0]",
        "[18446744073709551615]",
        "[18446744073709551616]",
        "[9999999999999999999]",
        "[99999999999999999999]",
        "[12345678,87654321]",
        "[123456789012]x",
        "[123456789012,]",
        "[012345678901,1]",
        "[123456789012 ,123456789012]",
        "[123456789012,123456789012]",
        "[1234567890123,12345678901]",
        "[12345678901a,1]",
        "[123456789012:1]",
        "[1]]",
        "[[1]]",
        "[\"1\"]",
        "{\"a\":1}",
        "null",
        "",
        "[",
        "[1",
        "[1,",
        "[1\u{a0}]",
        "[123456789012,\u{0}]",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let mut rng = Rng(7);
    for len in 0..200 {
        let text = array(&mut rng, len % 40);
        // Every plain array, and the same with one byte changed.
        let mut broken = text.clone().into_bytes();
        if !broken.is_empty() {
            let at = rng.below(broken.len() as u64) as usize;
            broken[at] = b"0123456789,[] .e-x\""[rng.below(19) as usize];
        }
        inputs.push(text.into_bytes());
        inputs.push(broken);
    }
    for input in &inputs {
        assert_eq!(
            parse_ids(input),
            serde(input),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn a_plain_array_allocates_exactly_as_serde_json_does() {
    let mut rng = Rng(11);
    for len in [0, 1, 3, 4, 5, 8, 9, 100, 1_000, 1_025] {
        let ids: Vec<u64> = (0..len)
            .map(|_| 100_000_000_000 + rng.below(9e11 as u64))
            .collect();
        let body = serde_json::to_vec(&ids).expect("a Vec<u64> serialises");
        let (ours, ours_stats) = heapmeter::measure(|| parse_ids(std::hint::black_box(&body)));
        let (theirs, theirs_stats) = heapmeter::measure(|| serde(std::hint::black_box(&body)));
        assert_eq!(ours.expect("plain"), ids);
        assert_eq!(theirs.expect("plain"), ids);
        assert_eq!(ours_stats, theirs_stats, "{len} ids");
    }
}
