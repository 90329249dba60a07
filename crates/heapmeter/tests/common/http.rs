//! A minimal HTTP/1.1 client over one keep-alive connection (the tests'
//! requests have no body and the answers a `Content-Length`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect to the test server");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        let writer = stream.try_clone().expect("clone stream");
        Client {
            reader: BufReader::new(stream),
            writer,
        }
    }

    /// Waits up to `timeout` for each answer (10 s by default).
    pub fn timeout(self, timeout: Duration) -> Client {
        self.writer
            .set_read_timeout(Some(timeout))
            .expect("timeout");
        self
    }

    /// GETs `path`; returns the status code and the body.
    pub fn get(&mut self, path: &str) -> (u16, String) {
        let (code, _, body) = self.get_bytes(path);
        (code, String::from_utf8(body).expect("utf-8 body"))
    }

    /// GETs `path`; returns the status code, the content type and the
    /// body's bytes.
    pub fn get_bytes(&mut self, path: &str) -> (u16, String, Vec<u8>) {
        write!(
            self.writer,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        )
        .expect("send");
        let mut status = String::new();
        self.reader.read_line(&mut status).expect("status line");
        let code: u16 = status
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status:?}"));
        let mut len = 0;
        let mut content_type = String::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    len = value.trim().parse().expect("content-length");
                }
                if name.eq_ignore_ascii_case("content-type") {
                    content_type = value.trim().to_string();
                }
            }
        }
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).expect("body");
        (code, content_type, body)
    }
}
