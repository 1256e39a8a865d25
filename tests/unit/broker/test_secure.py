"""The secured local broker's material and configuration (no JVM needed)."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from streamsec.broker.config import BrokerConfig, render_server_properties
from streamsec.broker.secure import SecureMaterial, secure_properties


def test_material_holds_a_ca_a_broker_keystore_and_one_cert_per_user(tmp_path: Path) -> None:
    material = SecureMaterial.create(tmp_path, ("streamsec", "reader"))
    assert material.users == ("admin", "streamsec", "reader")
    assert SecureMaterial.load(tmp_path) == material
    assert stat.S_IMODE(SecureMaterial.path(tmp_path).stat().st_mode) == 0o600
    key, cert, _chain = pkcs12.load_key_and_certificates(
        material.keystore.read_bytes(), material.keystore_password.encode()
    )
    assert key is not None and cert is not None
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert san.get_values_for_type(x509.DNSName) == []  # "localhost" is a hostname mismatch
    for user in material.users:
        cert_file, key_file = material.cert(user)
        client = x509.load_pem_x509_certificate(cert_file.read_bytes())
        assert client.subject.rfc4514_string() == f"CN={user}"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    scram = material.scram_arguments()
    assert scram[0] == "--add-scram"
    assert scram[1].startswith("SCRAM-SHA-512=[name=admin,password=")


def test_the_secured_listeners_and_the_authorizer_are_rendered(tmp_path: Path) -> None:
    material = SecureMaterial.create(tmp_path)
    props = secure_properties(material, host="127.0.0.1", port=1, mtls_port=2, controller_port=3)
    text = render_server_properties(
        BrokerConfig(port=1, controller_port=3, data_dir=tmp_path, overrides=props)
    )
    lines = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    assert lines["listeners"] == (
        "SASL_SSL://127.0.0.1:1,MTLS://127.0.0.1:2,CONTROLLER://127.0.0.1:3"
    )
    assert lines["listener.security.protocol.map"] == "SASL_SSL:SASL_SSL,MTLS:SSL,CONTROLLER:SSL"
    assert lines["listener.name.mtls.ssl.client.auth"] == "required"
    assert lines["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert lines["authorizer.class.name"].endswith("StandardAuthorizer")
    assert lines["allow.everyone.if.no.acl.found"] == "false"
    assert lines["super.users"] == "User:admin;User:broker"
    assert "PLAINTEXT://" not in text
