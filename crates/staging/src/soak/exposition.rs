//! Reading a target's `/metrics`: the Prometheus text exposition, parsed
//! into series (name, labels, value), and the figures the soak reports
//! picked from it, whichever of them the target serves.
//!
//! | figure | series | served by |
//! |---|---|---|
//! | live heap | `heapmeter_live_bytes` | heapmeter (`heaplab serve`) |
//! | per-request allocations | `heapmeter_request_{allocations,allocated_bytes}_{sum,count}{route="/payments"}` | heapmeter's `AllocLayer` |
//! | the route's live heap | `heapmeter_route_inuse_bytes{route="/payments"}` | heapmeter's `AllocLayer`, with heap sampling on |
//! | resident memory | `process_resident_memory_bytes` | heapmeter, prom-client |
//! | V8 heap used, total | `nodejs_heap_size_used_bytes`, `nodejs_heap_size_total_bytes` | prom-client's default metrics |
//! | V8 external memory | `nodejs_external_memory_bytes` | prom-client |
//! | GC time | `nodejs_gc_duration_seconds_sum` (every `kind`) | prom-client |
//! | V8 heap after the last full GC | `nodejs_heap_used_after_major_gc_bytes` | `reference/service` |
//! | requests in flight | `heaplab_payments_in_flight` | `reference/service` |

use serde::Serialize;

/// One sample line: `name{label="value",…} value [timestamp]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Series<'a> {
    /// The metric name, e.g. `heapmeter_live_bytes`.
    pub name: &'a str,
    /// The labels, in the order written (values unescaped only of `\"`,
    /// `\\` and `\n`).
    pub labels: Vec<(&'a str, String)>,
    /// The value.
    pub value: f64,
}

/// Parses the sample lines of a text exposition; comments, blank lines and
/// lines that are not a sample are skipped.
pub fn parse(text: &str) -> Vec<Series<'_>> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Series<'_>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let name_end = line
        .find(|c: char| c == '{' || c.is_whitespace())
        .unwrap_or(line.len());
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(inner)?;
        labels = parsed;
        rest = after;
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    (!name.is_empty()).then_some(Series {
        name,
        labels,
        value,
    })
}

/// `a="x",b="y"}` → the pairs and what follows the `}`.
fn parse_labels(mut s: &str) -> Option<(Vec<(&str, String)>, &str)> {
    let mut labels = Vec::new();
    loop {
        s = s.trim_start_matches([',', ' ']);
        if let Some(after) = s.strip_prefix('}') {
            return Some((labels, after));
        }
        let eq = s.find('=')?;
        let key = s[..eq].trim();
        s = s[eq + 1..].trim_start().strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = s.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                '"' => break i,
                c => value.push(c),
            }
        };
        labels.push((key, value));
        s = &s[end + 1..];
    }
}

/// The sum of every series named `name` whose labels include `with`;
/// `None` when there is none.
pub fn sum(series: &[Series<'_>], name: &str, with: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for s in series.iter().filter(|s| s.name == name) {
        let matches = with
            .iter()
            .all(|(k, v)| s.labels.iter().any(|(lk, lv)| lk == k && lv == v));
        if matches {
            *found.get_or_insert(0.0) += s.value;
        }
    }
    found
}

/// The route whose requests heapmeter's `AllocLayer` histograms are read.
pub const PAYMENTS_ROUTE: (&str, &str) = ("route", "/payments");

/// What the soak reads from one scrape; `None` where the target does not
/// serve the series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    /// `heapmeter_live_bytes`, in bytes.
    pub live_bytes: Option<f64>,
    /// `process_resident_memory_bytes`, in bytes.
    pub resident_bytes: Option<f64>,
    /// Requests `AllocLayer` measured on `/payments` so far.
    pub requests: Option<f64>,
    /// Their allocations, summed.
    pub allocations: Option<f64>,
    /// Their bytes allocated, summed, in bytes.
    pub allocated_bytes: Option<f64>,
    /// Live heap bytes that `/payments` requests allocated (sampled), in
    /// bytes.
    pub route_inuse_bytes: Option<f64>,
    /// `nodejs_heap_size_used_bytes`: V8's `heapUsed`, in bytes.
    pub v8_heap_used_bytes: Option<f64>,
    /// `nodejs_heap_size_total_bytes`: V8's `heapTotal`, in bytes.
    pub v8_heap_total_bytes: Option<f64>,
    /// `nodejs_external_memory_bytes`, in bytes.
    pub v8_external_bytes: Option<f64>,
    /// `nodejs_gc_duration_seconds_sum`, every kind: GC time so far, in
    /// seconds.
    pub gc_seconds: Option<f64>,
    /// `nodejs_heap_used_after_major_gc_bytes`: V8's used heap at the end
    /// of its last full GC (the live heap then), in bytes.
    pub v8_heap_after_gc_bytes: Option<f64>,
    /// `heaplab_payments_in_flight`: requests the service is answering.
    pub in_flight: Option<f64>,
}

impl Figures {
    /// The figures of a text exposition.
    pub fn read(text: &str) -> Figures {
        let s = parse(text);
        let route = |name: &str| sum(&s, name, &[PAYMENTS_ROUTE]);
        Figures {
            live_bytes: sum(&s, "heapmeter_live_bytes", &[]),
            resident_bytes: sum(&s, "process_resident_memory_bytes", &[]),
            requests: route("heapmeter_request_allocations_count"),
            allocations: route("heapmeter_request_allocations_sum"),
            allocated_bytes: route("heapmeter_request_allocated_bytes_sum"),
            route_inuse_bytes: route("heapmeter_route_inuse_bytes"),
            v8_heap_used_bytes: sum(&s, "nodejs_heap_size_used_bytes", &[]),
            v8_heap_total_bytes: sum(&s, "nodejs_heap_size_total_bytes", &[]),
            v8_external_bytes: sum(&s, "nodejs_external_memory_bytes", &[]),
            gc_seconds: sum(&s, "nodejs_gc_duration_seconds_sum", &[]),
            v8_heap_after_gc_bytes: sum(&s, "nodejs_heap_used_after_major_gc_bytes", &[]),
            in_flight: sum(&s, "heaplab_payments_in_flight", &[]),
        }
    }

    /// The names of the series read that were served, in the table's order.
    pub fn served(&self) -> Vec<&'static str> {
        self.all()
            .into_iter()
            .filter_map(|(v, name)| v.map(|_| name))
            .collect()
    }

    /// Every figure with the name of its series, in the table's order.
    pub fn all(&self) -> [(Option<f64>, &'static str); 11] {
        [
            (self.live_bytes, "heapmeter_live_bytes"),
            (self.requests, "heapmeter_request_allocations"),
            (self.allocated_bytes, "heapmeter_request_allocated_bytes"),
            (self.route_inuse_bytes, "heapmeter_route_inuse_bytes"),
            (self.resident_bytes, "process_resident_memory_bytes"),
            (self.v8_heap_used_bytes, "nodejs_heap_size_used_bytes"),
            (self.v8_heap_total_bytes, "nodejs_heap_size_total_bytes"),
            (self.v8_external_bytes, "nodejs_external_memory_bytes"),
            (self.gc_seconds, "nodejs_gc_duration_seconds"),
            (
                self.v8_heap_after_gc_bytes,
                "nodejs_heap_used_after_major_gc_bytes",
            ),
            (self.in_flight, "heaplab_payments_in_flight"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_found_by_name_and_labels_in_any_order() {
        let text = "# HELP x y\n# TYPE a_total counter\na_total 3\n\
                    b{method=\"POST\",route=\"/payments\"} 7.5\n\
                    b{route=\"/payments\",method=\"GET\"} 0.5\n\
                    b{route=\"/healthz\"} 100 1700000000000\n\
                    c{q=\"a\\\"b,}\"} +Inf\n";
        let s = parse(text);
        assert_eq!(s.len(), 5);
        assert_eq!(sum(&s, "a_total", &[]), Some(3.0));
        assert_eq!(sum(&s, "b", &[PAYMENTS_ROUTE]), Some(8.0));
        assert_eq!(sum(&s, "b", &[]), Some(108.0));
        assert_eq!(sum(&s, "b", &[("route", "/nope")]), None);
        assert_eq!(s[4].labels, vec![("q", "a\"b,}".to_string())]);
        assert_eq!(sum(&s, "a", &[]), None, "a name is matched whole");
    }

    #[test]
    fn prom_clients_node_figures_are_read() {
        let text = "nodejs_heap_size_used_bytes 5242880\n\
                    nodejs_heap_size_total_bytes 8388608\n\
                    nodejs_external_memory_bytes 1024\n\
                    nodejs_gc_duration_seconds_sum{kind=\"minor\"} 0.25\n\
                    nodejs_gc_duration_seconds_sum{kind=\"major\"} 0.5\n\
                    process_resident_memory_bytes 52428800\n";
        let f = Figures::read(text);
        assert_eq!(f.v8_heap_used_bytes, Some(5_242_880.0));
        assert_eq!(f.gc_seconds, Some(0.75));
        assert_eq!(f.live_bytes, None);
        assert_eq!(
            f.served(),
            [
                "process_resident_memory_bytes",
                "nodejs_heap_size_used_bytes",
                "nodejs_heap_size_total_bytes",
                "nodejs_external_memory_bytes",
                "nodejs_gc_duration_seconds"
            ]
        );
    }
}
