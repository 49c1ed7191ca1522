"""A WebSocket client over HTTP/2 (RFC 8441), built from independent parts:
the `h2` package speaks HTTP/2 (cleartext, prior knowledge) and sends the
extended CONNECT; Python `wsproto` frames the WebSocket on the stream.

    h2_client.py HOST PORT PATH [--deflate]

It waits for the server's SETTINGS_ENABLE_CONNECT_PROTOCOL, opens the
WebSocket, echoes text and binary messages of every frame-length encoding
(larger than the HTTP/2 windows, so flow control runs), pings, closes, and
checks that the server ends the stream cleanly (END_STREAM, no reset).
Prints "ok" on success; exits non-zero with the reason otherwise.
"""

import socket
import sys

import h2.config
import h2.connection
import h2.events
import h2.settings
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage
from wsproto.extensions import PerMessageDeflate

SIZES = [0, 1, 125, 126, 127, 65535, 65536, 200_000]


def fail(why):
    print(f"FAIL: {why}", file=sys.stderr)
    sys.exit(1)


class Client:
    def __init__(self, host, port, path, deflate):
        self.sock = socket.create_connection((host, port), timeout=30)
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.h2 = h2.connection.H2Connection(config)
        self.h2.initiate_connection()
        self.flush()
        self.events = []
        self.ws = None
        self.early = b""
        self.connect_enabled = False
        while not self.connect_enabled:
            self.pump()
            self.events.clear()
        self.extension = PerMessageDeflate() if deflate else None
        headers = [
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "http"),
            (":path", path),
            (":authority", f"{host}:{port}"),
            ("sec-websocket-version", "13"),
        ]
        if self.extension:
            offer = self.extension.offer()
            headers.append(("sec-websocket-extensions", f"{self.extension.name}; {offer}"))
        self.stream_ended = False
        self.stream = self.h2.get_next_available_stream_id()
        self.h2.send_headers(self.stream, headers)
        self.flush()
        response = self.wait(h2.events.ResponseReceived)
        fields = dict(response.headers)
        if fields.get(":status") != "200":
            fail(f"status {fields.get(':status')}: {fields}")
        if "sec-websocket-accept" in fields:
            fail("a Sec-WebSocket-Accept over HTTP/2 (RFC 8441 §5 has none)")
        extensions = []
        accepted = fields.get("sec-websocket-extensions")
        if self.extension:
            if not accepted or not accepted.startswith("permessage-deflate"):
                fail(f"permessage-deflate not accepted: {accepted!r}")
            self.extension.finalize(accepted)
            extensions.append(self.extension)
        elif accepted:
            fail(f"an extension that was not offered: {accepted!r}")
        self.ws = Connection(ConnectionType.CLIENT, extensions=extensions)
        self.ws_events = []
        if self.early:
            self.ws.receive_data(self.early)
            self.ws_events.extend(self.ws.events())

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def pump(self):
        """Reads once and handles what HTTP/2 gives."""
        data = self.sock.recv(65536)
        if not data:
            fail("the server closed the TCP connection")
        for event in self.h2.receive_data(data):
            if isinstance(event, h2.events.RemoteSettingsChanged):
                setting = event.changed_settings.get(
                    h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL
                )
                if setting is not None and setting.new_value == 1:
                    self.connect_enabled = True
            elif isinstance(event, h2.events.DataReceived):
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                if self.ws is None:
                    # Frames right behind the 200, before it was handled.
                    self.early += event.data
                elif event.data and self.ws.state != ConnectionState.CLOSED:
                    self.ws.receive_data(event.data)
                    self.ws_events.extend(self.ws.events())
                elif event.data:
                    fail(f"{len(event.data)} bytes after the close handshake")
            elif isinstance(event, h2.events.StreamEnded):
                self.stream_ended = True
            elif isinstance(event, h2.events.StreamReset):
                # A refusal (not 200) ends with a reset too; it is judged
                # by its status. After the 200, a reset is a failure.
                if self.ws is not None:
                    fail(f"the server reset the stream: {event.error_code!r}")
            elif isinstance(event, h2.events.ConnectionTerminated):
                fail(f"the server ended the connection: {event.error_code!r}")
            self.events.append(event)
        self.flush()

    def wait(self, kind):
        while True:
            for i, event in enumerate(self.events):
                if isinstance(event, kind):
                    return self.events.pop(i)
            self.pump()

    def send(self, event):
        """Sends a WebSocket event, within the HTTP/2 flow-control windows."""
        data = self.ws.send(event)
        while data:
            window = self.h2.local_flow_control_window(self.stream)
            size = min(window, self.h2.max_outbound_frame_size, len(data))
            if size == 0:
                self.pump()
                continue
            self.h2.send_data(self.stream, data[:size])
            data = data[size:]
            self.flush()

    def next_message(self):
        """The next whole text or binary message, or another event."""
        parts = []
        while True:
            while not self.ws_events:
                self.pump()
            event = self.ws_events.pop(0)
            if isinstance(event, (TextMessage, BytesMessage)):
                parts.append(event.data)
                if event.message_finished:
                    joined = "".join(parts) if isinstance(event, TextMessage) else b"".join(parts)
                    return joined
                continue
            return event


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    client = Client(host, port, path, "--deflate" in sys.argv[4:])
    for size in SIZES:
        text = ("wsproto κόσμε " * (size // 14 + 1))[:size]
        client.send(TextMessage(data=text))
        got = client.next_message()
        if got != text:
            fail(f"text {size} came back different ({len(got) if isinstance(got, str) else got!r})")
        data = bytes((i * 7 + 3) % 256 for i in range(size))
        client.send(BytesMessage(data=data))
        got = client.next_message()
        if got != data:
            fail(f"binary {size} came back different")
    client.send(Ping(payload=b"over h2"))
    got = client.next_message()
    if not isinstance(got, Pong) or got.payload != b"over h2":
        fail(f"expected the pong, got {got!r}")
    client.send(CloseConnection(code=1000, reason="done"))
    got = client.next_message()
    if not isinstance(got, CloseConnection) or got.code != 1000:
        fail(f"expected the close reply, got {got!r}")
    # The server ends its half of the stream (END_STREAM, RFC 8441's FIN);
    # then we end ours, and the stream closes without a reset.
    while not client.stream_ended:
        client.pump()
    client.h2.end_stream(client.stream)
    client.flush()
    client.h2.close_connection()
    client.flush()
    client.sock.close()
    print("ok")


if __name__ == "__main__":
    main()
