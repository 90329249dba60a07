fn main() {
    println!("heaplab: replay is not implemented yet");
}
