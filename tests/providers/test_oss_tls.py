"""The bucket's client verifies TLS for every https endpoint (it reads no CA store for a
plain-http one, which makes no TLS connection)."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from voxform.errors import VoxformError
from voxform.providers.credentials import Credentials
from voxform.providers.oss_client import OssClient
from voxform.providers.oss_endpoint import oss_endpoint_for


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt"]
    command += ["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def test_an_https_bucket_endpoint_with_a_certificate_nobody_vouches_for_is_refused(
    tmp_path: Path,
) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed(tmp_path))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(60)
    port = listener.getsockname()[1]
    ended: list[str] = []

    def serve() -> None:
        with listener:
            connection, _ = listener.accept()
            try:
                with context.wrap_socket(connection, server_side=True) as tls:
                    ended.append("handshake done")
                    tls.recv(1)
            except OSError as error:  # ssl.SSLError among them: the client hung up on it
                ended.append(type(error).__name__)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    endpoint = oss_endpoint_for("audio", "cn-shanghai", f"https://127.0.0.1:{port}")
    client = OssClient(
        endpoint, Credentials("testid", "testsecret", None, source="test"), timeout=30
    )

    with pytest.raises(VoxformError) as refused, client:
        client.head_object("course/a.mp3")

    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
    server.join(timeout=30)
    assert ended and ended[0] != "handshake done"
