//! `wsproto::connect`: one error variant per way of failing (a bad URL, a
//! refused connection, `wss://` without TLS, a failed TLS handshake, a
//! declined upgrade, a bad 101), and `wss://` end to end against a TLS
//! server whose self-signed certificate is made here (rcgen) and trusted
//! through a custom `rustls::ClientConfig`.

mod async_client;
mod tls;

use tls::{tls_echo_server, trusting};

use std::net::SocketAddr;

use http::Request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wsproto::HandshakeErrorKind;
use wsproto::connect::{ConnectError, Connector};

/// A server that reads the request head and answers with `response`.
async fn raw_server(response: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tcp.write_all(response).await;
                let _ = tcp.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_bad_url_is_invalid_url() {
    for url in [
        "http://localhost/",
        "localhost:80/",
        "ws://",
        "ws://user@localhost/",
        "ws://localhost:0/",
        "ws://localhost:99999/",
        "not a url",
    ] {
        match wsproto::connect(url).await {
            Err(ConnectError::InvalidUrl(err)) => assert_eq!(err.kind, HandshakeErrorKind::Local),
            other => panic!("{url}: expected InvalidUrl, got {:?}", other.map(|_| ())),
        }
    }
    // connect_with judges the request's URI the same way.
    let request = Request::get("/path")
        .header("host", "localhost")
        .body(())
        .unwrap();
    let result = wsproto::connect_with(request, Default::default(), Vec::new(), Default::default());
    assert!(matches!(result.await, Err(ConnectError::InvalidUrl(_))));
}

#[tokio::test]
async fn a_refused_connection_is_connect() {
    // A port that was just free: nothing listens there.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    match wsproto::connect(&format!("ws://{addr}/")).await {
        Err(ConnectError::Connect(err)) => {
            assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        }
        other => panic!("expected Connect, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn wss_without_tls_is_tls_not_enabled() {
    // Refused before any connection is tried: nothing listens here.
    let request = Request::get("wss://127.0.0.1:1/").body(()).unwrap();
    let result = Connector::Plain
        .connect(request, Default::default(), Vec::new(), Default::default())
        .await;
    let err = result.map(|_| ()).unwrap_err();
    assert!(matches!(err, ConnectError::TlsNotEnabled), "{err:?}");
    assert!(err.to_string().contains("rustls"), "{err}");
}

#[tokio::test]
async fn wss_to_a_plain_server_is_tls() {
    // A plain HTTP server that answers the ClientHello's bytes at once.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = tcp.read(&mut buf).await;
        let _ = tcp
            .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            .await;
        let _ = tcp.shutdown().await;
    });
    match wsproto::connect(&format!("wss://{addr}/")).await {
        Err(ConnectError::Tls(_)) => {}
        other => panic!("expected Tls, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn an_untrusted_certificate_is_tls() {
    let (addr, _) = tls_echo_server().await;
    // The default connector trusts Mozilla's roots, not our certificate.
    match wsproto::connect(&format!("wss://localhost:{}/", addr.port())).await {
        Err(ConnectError::Tls(err)) => {
            let inner = err
                .get_ref()
                .and_then(|e| e.downcast_ref::<rustls::Error>());
            assert!(
                matches!(inner, Some(rustls::Error::InvalidCertificate(_))),
                "{err:?}"
            );
        }
        other => panic!("expected Tls, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn a_declined_upgrade_is_rejected() {
    let addr =
        raw_server(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 7\r\nx-why: test\r\n\r\nno way\n")
            .await;
    match wsproto::connect(&format!("ws://{addr}/")).await {
        Err(ConnectError::Rejected(response)) => {
            assert_eq!(response.status(), 403);
            assert_eq!(response.headers()["x-why"], "test");
            assert_eq!(response.body().as_ref(), b"no way\n");
        }
        other => panic!("expected Rejected, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn a_bad_101_is_handshake() {
    let addr = raw_server(
        b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\
          sec-websocket-accept: not-the-right-one=\r\n\r\n",
    )
    .await;
    match wsproto::connect(&format!("ws://{addr}/")).await {
        Err(ConnectError::Handshake(err)) => {
            assert_eq!(err.kind, HandshakeErrorKind::BadResponse);
            assert_eq!(err.status, 101);
        }
        other => panic!("expected Handshake, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn wss_end_to_end_with_a_custom_client_config() {
    let (addr, cert) = tls_echo_server().await;
    let connector = trusting(cert);
    // By name (the certificate's DNS name) and by address (its IP name).
    for host in ["localhost", "127.0.0.1"] {
        let request = Request::get(format!("wss://{host}:{}/echo", addr.port()))
            .body(())
            .unwrap();
        let (mut ws, response) = connector
            .connect(request, Default::default(), Vec::new(), Default::default())
            .await
            .unwrap_or_else(|err| panic!("{host}: {err}"));
        assert_eq!(response.status(), 101);
        assert!(matches!(
            ws.get_ref(),
            wsproto::connect::MaybeTlsStream::Rustls(_)
        ));
        async_client::echo_round_trips(&mut ws).await;
        async_client::close_to_the_end(&mut ws).await;
    }
}

#[tokio::test]
async fn a_certificate_for_another_name_is_tls() {
    let (addr, cert) = tls_echo_server().await;
    // Trusted, but not for this name: 127.0.0.2 reaches nothing on most
    // machines, so the name is given with a Host of its own over 127.0.0.1.
    let request = Request::get(format!("wss://127.0.0.1:{}/", addr.port()))
        .body(())
        .unwrap();
    let (_ws, _) = trusting(cert.clone())
        .connect(request, Default::default(), Vec::new(), Default::default())
        .await
        .expect("the certificate names 127.0.0.1");
    let other = rcgen::generate_simple_self_signed(vec!["example.com".to_owned()]).unwrap();
    let request = Request::get(format!("wss://127.0.0.1:{}/", addr.port()))
        .body(())
        .unwrap();
    match trusting(other.cert.der().clone())
        .connect(request, Default::default(), Vec::new(), Default::default())
        .await
    {
        Err(ConnectError::Tls(_)) => {}
        other => panic!("expected Tls, got {:?}", other.map(|_| ())),
    }
}
