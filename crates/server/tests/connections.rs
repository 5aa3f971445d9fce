//! Connection hygiene (issue 14 item 2): slow headers and idle keep-alive sockets are
//! closed, a stalled body answers 408, and `/healthz` keeps answering while a crowd of
//! such sockets, more than the connection cap, is held.

mod common;

use std::time::{Duration, Instant};

use closeloop::app::HttpLimits;
use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn limits(max_connections: u32, header: u64, idle: u64, body: u64) -> HttpLimits {
    HttpLimits {
        max_connections,
        header_read_timeout: Duration::from_secs(header),
        idle_timeout: Duration::from_secs(idle),
        body_timeout: Duration::from_secs(body),
    }
}

async fn spawn_with(http: HttpLimits) -> TestApp {
    spawn_app_with(Options {
        http,
        ..Options::default()
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.url.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connects")
}

/// Waits until the server closes the socket (EOF or reset), reading whatever it sends;
/// None if it is still open after `limit`.
async fn closed_within(socket: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buffer = [0u8; 4096];
    loop {
        let left = limit.checked_sub(start.elapsed())?;
        match tokio::time::timeout(left, socket.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

/// Sends a request head a byte at a time, `every` apart, until the server closes the
/// socket; how long that took, or None if all of it went through.
async fn trickle_head(socket: &mut TcpStream, every: Duration) -> Option<Duration> {
    let head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let start = Instant::now();
    for byte in head {
        if socket.write_all(&[*byte]).await.is_err() {
            return Some(start.elapsed());
        }
        let mut probe = [0u8; 1];
        match tokio::time::timeout(every, socket.read(&mut probe)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) | Err(_) => {}
        }
    }
    None
}

#[tokio::test]
async fn a_client_sending_its_headers_a_byte_at_a_time_is_disconnected() {
    let app = spawn_with(limits(512, 1, 30, 30)).await;
    let mut socket = connect(&app).await;
    let took = trickle_head(&mut socket, Duration::from_millis(250))
        .await
        .expect("the server closes the slow connection before the head is complete");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(10),
        "closed after {took:?}, with a 1 s header timeout"
    );
    app.stop().await;
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_after_the_idle_timeout() {
    let app = spawn_with(limits(512, 30, 1, 30)).await;
    let mut after_a_request = connect(&app).await;
    after_a_request
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 1024];
    let n = after_a_request.read(&mut buffer).await.unwrap();
    assert!(
        String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 200"),
        "the request is answered and the connection kept alive"
    );
    let mut silent = connect(&app).await;
    let idle = closed_within(&mut after_a_request, Duration::from_secs(10))
        .await
        .expect("an idle keep-alive connection is closed");
    assert!(idle >= Duration::from_millis(900), "closed after {idle:?}");
    closed_within(&mut silent, Duration::from_secs(10))
        .await
        .expect("a connection that never sends anything is closed");
    app.stop().await;
}

#[tokio::test]
async fn healthz_answers_while_more_slow_and_idle_sockets_than_the_cap_are_held() {
    let app = spawn_with(limits(8, 1, 1, 30)).await;
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(connect(&app).await);
    }
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut socket = connect(&app).await;
        slow.push(tokio::spawn(async move {
            trickle_head(&mut socket, Duration::from_millis(300)).await
        }));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let start = Instant::now();
    let health = client
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .expect("/healthz answers while 40 sockets are held against a cap of 8");
    assert_eq!(health.status(), 200);
    assert!(
        start.elapsed() < Duration::from_secs(25),
        "answered after {:?}",
        start.elapsed()
    );
    for socket in &mut idle {
        closed_within(socket, Duration::from_secs(30))
            .await
            .expect("every idle socket is closed in turn");
    }
    for task in slow {
        task.await
            .unwrap()
            .expect("every slow socket is closed in turn");
    }
    let again = client.get(format!("{}/healthz", app.url)).send().await;
    assert_eq!(again.expect("still answering").status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn a_body_slower_than_the_body_timeout_answers_408_in_the_error_shape() {
    let app = spawn_with(limits(512, 30, 30, 1)).await;
    let mut socket = connect(&app).await;
    socket
        .write_all(b"PUT /api/v1/cases/C-1 HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"status\":")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
            if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}}") {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the stalled body is answered");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap_or("")).unwrap();
    assert_eq!(body["error"]["code"], "request_timeout", "{body}");
    let (status, _) = app.get_json("/cases/C-1").await;
    assert_eq!(status, 404, "nothing of the stalled request was applied");
    app.stop().await;
}
