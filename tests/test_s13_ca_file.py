"""``--ca-file``: a private CA for one run, as curl's --cacert and mpv's --tls-ca-file.

SSL_CERT_FILE did this already, but only for the whole environment; a user with one server
behind a company CA wants it on the command line (and in the config file). The file replaces
the system's bundle, as curl's does, and a file that holds no certificate is a usage error
before any request, not a TLS failure on the first one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import net_helpers
from conftest import assert_clean_failure, run_cli
from kithara_cli.server import MediaServer
from net_helpers import Certs, TlsFront

NO_CA_ENV = {"SSL_CERT_FILE": "", "SSL_CERT_DIR": "", "KITHARA_CACHE": "off"}


certs = net_helpers.certs
tls = net_helpers.tls


def _fetch(url: str, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("fetch", url, "-o", str(out), "--retries", "1", *args, env=NO_CA_ENV)


def test_the_private_cas_server_is_fetched_with_ca_file_and_refused_without(
    tls: TlsFront, certs: Certs, blob_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "small.bin"
    refused = _fetch(tls.url("small.bin"), out)
    assert_clean_failure(refused, out, 3)
    assert "certificate" in refused.stderr
    proc = _fetch(tls.url("small.bin"), out, "--ca-file", str(certs.ca))
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == (blob_root / "small.bin").read_bytes()


def test_play_takes_it_too(tls: TlsFront, certs: Certs, tmp_path: Path) -> None:
    proc = run_cli(
        "play",
        tls.url("small.bin"),
        "--ca-file",
        str(certs.ca),
        "--no-ui",
        "--output",
        "null",
        env={**NO_CA_ENV, "KITHARA_AUDIO_DEVICE": "none"},
    )
    # Random bytes are no audio: what matters is that TLS was not what failed.
    assert "certificate" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("content", [b"", b"not a certificate\n", None])
def test_a_file_with_no_certificate_is_a_usage_error(
    server: MediaServer, tmp_path: Path, content: bytes | None
) -> None:
    ca = tmp_path / "ca.pem"
    if content is not None:
        ca.write_bytes(content)
    out = tmp_path / "o.bin"
    proc = _fetch(server.url("small.bin"), out, "--ca-file", str(ca))
    assert_clean_failure(proc, out, 2)
    assert "--ca-file" in proc.stderr
    assert server.stats.requests() == []
