"""Optional TLS / mTLS between services, from `HIREMESH_TLS_*` variables.

Unset: plaintext on 127.0.0.1 or inside a NetworkPolicy-fenced cluster. Set `HIREMESH_TLS_CERT` and
`HIREMESH_TLS_KEY` for servers, `HIREMESH_TLS_CA` for clients to verify them; with
`HIREMESH_TLS_CLIENT_AUTH=true` servers also require a client certificate signed by that CA (mTLS).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from hiremesh.config import ConfigError, env_bool, env_str

__all__ = ["TlsConfig"]


@dataclass(frozen=True)
class TlsConfig:
    cert: bytes | None
    key: bytes | None
    ca: bytes | None
    client_auth: bool
    server_name: str

    @classmethod
    def from_env(cls) -> TlsConfig:
        def read(name: str) -> bytes | None:
            path = env_str(name, "")
            if not path:
                return None
            try:
                return Path(path).read_bytes()
            except OSError as exc:
                raise ConfigError(name, f"cannot read {path}: {exc.strerror}") from None

        cert, key, ca = read("HIREMESH_TLS_CERT"), read("HIREMESH_TLS_KEY"), read("HIREMESH_TLS_CA")
        if (cert is None) != (key is None):
            raise ConfigError(
                "HIREMESH_TLS_KEY" if key is None else "HIREMESH_TLS_CERT",
                "HIREMESH_TLS_CERT and HIREMESH_TLS_KEY must be set together",
            )
        client_auth = env_bool("HIREMESH_TLS_CLIENT_AUTH", False)
        if client_auth and ca is None:
            raise ConfigError("HIREMESH_TLS_CA", "required when HIREMESH_TLS_CLIENT_AUTH is true")
        return cls(cert, key, ca, client_auth, env_str("HIREMESH_TLS_SERVER_NAME", ""))

    def server_credentials(self) -> grpc.ServerCredentials | None:
        if self.cert is None or self.key is None:
            return None
        return grpc.ssl_server_credentials(
            [(self.key, self.cert)],
            root_certificates=self.ca if self.client_auth else None,
            require_client_auth=self.client_auth,
        )

    def channel_credentials(self) -> grpc.ChannelCredentials | None:
        if self.ca is None:
            return None
        # The same cert/key pair identifies this process as a client when mTLS is on.
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca, private_key=self.key, certificate_chain=self.cert
        )
