//! A tiny HTTP/1.1 server on a std `TcpListener` for `/liveness`, `/readiness` and `/metrics`
//! (GET and HEAD; one request per connection; bounded reads). It binds in the network
//! namespace of the process.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// A response: status code, content type, body.
pub type Response = (u16, &'static str, String);

/// Routes a path to a response.
pub type Handler = Arc<dyn Fn(&str) -> Response + Send + Sync>;

/// Resolve `host:port` (`localhost` and names resolve through the system resolver; an empty
/// host means every address).
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}:{port}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host}:{port} resolves to no address"))
}

/// Bind and serve on a background thread. Returns the bound address.
pub fn serve(addr: SocketAddr, handler: Handler) -> Result<SocketAddr, String> {
    let listener = TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    std::thread::Builder::new()
        .name(format!("http-{}", local.port()))
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let h = handler.clone();
                // One short-lived thread per connection so a slow client blocks nobody.
                let _ = std::thread::Builder::new()
                    .name("http-conn".into())
                    .spawn(move || handle(stream, &h));
            }
        })
        .map_err(|e| format!("cannot start the HTTP thread: {e}"))?;
    Ok(local)
}

fn handle(mut stream: TcpStream, handler: &Handler) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 8192 {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf);
    let mut parts = text.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, ctype, body) = match method {
        "GET" | "HEAD" => handler(path),
        _ => (405, "text/plain", "method not allowed\n".into()),
    };
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    if method != "HEAD" {
        let _ = stream.write_all(body.as_bytes());
    }
    let _ = stream.flush();
}

/// A minimal client for tests and `calico-node -health`-style probes: GET `path` and return
/// (status, body).
pub fn get(addr: SocketAddr, path: &str) -> Result<(u16, String), String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("cannot send to {addr}: {e}"))?;
    let mut out = String::new();
    s.read_to_string(&mut out)
        .map_err(|e| format!("cannot read from {addr}: {e}"))?;
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("bad response from {addr}: {out:?}"))?;
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn serves_routes_on_loopback() {
        let h: Handler = Arc::new(|p| match p {
            "/x" => (200, "text/plain", "hello\n".into()),
            _ => (404, "text/plain", "no\n".into()),
        });
        let addr = serve("127.0.0.1:0".parse().unwrap(), h).unwrap();
        assert_eq!(get(addr, "/x").unwrap(), (200, "hello\n".into()));
        assert_eq!(get(addr, "/y?z=1").unwrap().0, 404);
    }
}
