//! A tiny HTTP server on 127.0.0.1 that writes raw bytes, for what a
//! well-behaved HTTP stack (the emulator's) cannot produce: huge or endless
//! SSE lines, trickled bodies, resets at any byte.
//!
//! Each connection gets its own thread; the test's `answer` closure reads
//! the request's first line and writes whatever it likes to the socket.
//! Every answer should say `Connection: close`: one request per connection.
//! It records the request lines (and whole heads, for header checks) and
//! stops accepting when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct RawServer {
    pub url: String,
    requests: Arc<Mutex<Vec<String>>>,
    heads: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl RawServer {
    /// Starts the server; `answer(request_line, socket)` writes the answer.
    pub fn start<F>(answer: F) -> RawServer
    where
        F: Fn(&str, &mut TcpStream) + Send + Sync + 'static,
    {
        RawServer::start_with_heads(move |head, socket| {
            answer(head.lines().next().unwrap_or(""), socket)
        })
    }

    /// [`RawServer::start`] whose `answer` is given the whole head (as
    /// [`RawServer::heads`] records it), to answer by a request header.
    pub fn start_with_heads<F>(answer: F) -> RawServer
    where
        F: Fn(&str, &mut TcpStream) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let answer = Arc::new(answer);
        let (seen, seen_heads, stopped) = (requests.clone(), heads.clone(), stop.clone());
        std::thread::spawn(move || {
            for socket in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut socket) = socket else { continue };
                let (answer, seen, seen_heads) = (answer.clone(), seen.clone(), seen_heads.clone());
                std::thread::spawn(move || {
                    if let Some((line, head)) = read_request(&mut socket) {
                        seen.lock().expect("requests").push(line.clone());
                        seen_heads.lock().expect("heads").push(head.clone());
                        answer(&head, &mut socket);
                    }
                });
            }
        });
        RawServer {
            url,
            requests,
            heads,
            stop,
        }
    }

    /// The request lines (`POST /run_sse HTTP/1.1`) seen so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }

    /// The whole heads (request line and header lines, `\r\n` removed,
    /// joined by `\n`) seen so far, in the order they came.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().expect("heads").clone()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

/// Reads one request (head and `Content-Length` body); its first line and
/// its whole head.
fn read_request(socket: &mut TcpStream) -> Option<(String, String)> {
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(socket.try_clone().ok()?);
    let mut first = String::new();
    reader.read_line(&mut first).ok()?;
    let mut length = 0usize;
    let mut head = first.trim_end().to_string();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        head.push('\n');
        head.push_str(header);
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((first.trim_end().to_string(), head))
}

/// A complete JSON answer.
pub fn json_answer(socket: &mut TcpStream, body: &str) {
    let _ = write!(
        socket,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// The head of an SSE answer whose body runs until the socket closes.
pub fn sse_head(socket: &mut TcpStream) -> std::io::Result<()> {
    socket.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
    )
}
