#[global_allocator]
static GLOBAL: heapmeter::CountingAlloc<std::alloc::System> = heapmeter::CountingAlloc::system();
#[path = "common/pairs.rs"]
mod pairs;
fn main() {
    let mut f = std::pin::pin!(heapmeter::measure_future(async { pairs::run() }));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let std::task::Poll::Ready(((), s)) = std::future::Future::poll(f.as_mut(), &mut cx) else {
        panic!()
    };
    assert!(s.allocs > 0 && s.peak_bytes == 64);
}
