"""Runs differential scripts through Python wsproto 1.3 (the peer of
tests/python_wsproto/differential.rs) and prints, as JSON, what each step
gave: the bytes to send, the events, the error raised and the state.

Usage: wsproto_diff.py SCRIPTS.json  (a list of scripts, see the Rust side)

The masking key is fixed (os.urandom in wsproto.frame_protocol returns
01 02 03 04) so that client frames are byte-for-byte comparable.
"""

import json
import sys

import wsproto
import wsproto.frame_protocol
from wsproto import WSConnection
from wsproto.connection import ConnectionType
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.extensions import PerMessageDeflate
from wsproto.utilities import (
    LocalProtocolError,
    RemoteProtocolError,
    generate_accept_token,
)


class FixedOs:
    @staticmethod
    def urandom(n):
        return bytes([1, 2, 3, 4] * n)[:n]


wsproto.frame_protocol.os = FixedOs


def deflate(params):
    return PerMessageDeflate(**params)


def headers_out(headers):
    return [[n.decode("latin-1").lower(), v.decode("latin-1")] for n, v in headers]


def event_json(event):
    if isinstance(event, Request):
        return {
            "type": "Request",
            "host": event.host,
            "target": event.target,
            "subprotocols": list(event.subprotocols),
            "extensions": [str(e) for e in event.extensions],
            "extra_headers": headers_out(event.extra_headers),
        }
    if isinstance(event, AcceptConnection):
        return {
            "type": "AcceptConnection",
            "subprotocol": event.subprotocol,
            "extensions": [e.name for e in event.extensions],
            "extra_headers": headers_out(event.extra_headers),
        }
    if isinstance(event, RejectConnection):
        return {
            "type": "RejectConnection",
            "status_code": event.status_code,
            "headers": headers_out(event.headers),
            "has_body": event.has_body,
        }
    if isinstance(event, RejectData):
        return {
            "type": "RejectData",
            "data": bytes(event.data).hex(),
            "body_finished": event.body_finished,
        }
    if isinstance(event, CloseConnection):
        return {"type": "CloseConnection", "code": int(event.code), "reason": event.reason}
    if isinstance(event, TextMessage):
        return {
            "type": "TextMessage",
            "data": event.data,
            "frame_finished": event.frame_finished,
            "message_finished": event.message_finished,
        }
    if isinstance(event, BytesMessage):
        return {
            "type": "BytesMessage",
            "data": bytes(event.data).hex(),
            "frame_finished": event.frame_finished,
            "message_finished": event.message_finished,
        }
    if isinstance(event, Ping):
        return {"type": "Ping", "payload": bytes(event.payload).hex()}
    if isinstance(event, Pong):
        return {"type": "Pong", "payload": bytes(event.payload).hex()}
    raise TypeError(event)


def make_event(spec, script):
    kind = spec["type"]
    if kind == "Request":
        exts = [deflate(script["deflate"])] if script.get("deflate") is not None else []
        return Request(
            host=spec["host"],
            target=spec["target"],
            subprotocols=spec.get("subprotocols", []),
            extensions=exts,
            extra_headers=[(n.encode(), v.encode()) for n, v in spec.get("extra_headers", [])],
        )
    if kind == "AcceptConnection":
        exts = [deflate(script["deflate"])] if script.get("deflate") is not None else []
        return AcceptConnection(
            subprotocol=spec.get("subprotocol"),
            extensions=exts,
            extra_headers=[(n.encode(), v.encode()) for n, v in spec.get("extra_headers", [])],
        )
    if kind == "RejectConnection":
        return RejectConnection(
            status_code=spec["status_code"],
            headers=[(n.encode(), v.encode()) for n, v in spec.get("headers", [])],
            has_body=spec["has_body"],
        )
    if kind == "RejectData":
        return RejectData(data=bytes.fromhex(spec["data"]), body_finished=spec["body_finished"])
    if kind == "TextMessage":
        return TextMessage(data=spec["data"], message_finished=spec.get("message_finished", True))
    if kind == "BytesMessage":
        return BytesMessage(
            data=bytes.fromhex(spec["data"]), message_finished=spec.get("message_finished", True),
        )
    if kind == "Ping":
        return Ping(payload=bytes.fromhex(spec.get("payload", "")))
    if kind == "Pong":
        return Pong(payload=bytes.fromhex(spec.get("payload", "")))
    if kind == "CloseConnection":
        return CloseConnection(code=spec["code"], reason=spec.get("reason"))
    raise ValueError(kind)


def run(script):
    role = ConnectionType.CLIENT if script["role"] == "client" else ConnectionType.SERVER
    conn = WSConnection(role)
    key = None
    results = []
    for step in script["steps"]:
        out, error = None, None
        try:
            if "send" in step:
                data = conn.send(make_event(step["send"], script))
                out = data.hex()
                if step["send"]["type"] == "Request":
                    for line in data.split(b"\r\n"):
                        if line.lower().startswith(b"sec-websocket-key:"):
                            key = line.split(b":", 1)[1].strip()
            elif "receive" in step:
                data = bytes.fromhex(step["receive"])
                if key is not None:
                    data = data.replace(b"{ACCEPT}", generate_accept_token(key))
                conn.receive_data(data)
            else:
                conn.receive_data(None)
        except LocalProtocolError:
            error = "local"
        except RemoteProtocolError as exc:
            error = "remote"
            hint = exc.event_hint
            if hint is not None:
                error = "remote:%d" % hint.status_code
        try:
            events = [event_json(e) for e in conn.events()]
        except Exception as exc:  # noqa: BLE001 - reported, compared
            events = [{"type": "exception", "what": type(exc).__name__}]
        results.append(
            {"out": out, "error": error, "events": events, "state": conn.state.name},
        )
    return results


def main():
    with open(sys.argv[1]) as f:
        scripts = json.load(f)
    json.dump([run(s) for s in scripts], sys.stdout)


if __name__ == "__main__":
    main()
