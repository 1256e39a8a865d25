# streamsec worker image: `docker build -t streamsec .`
# Runs `streamsec worker --topology /topologies/customers.yaml` unless given another command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY streamsec ./streamsec
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /var/lib/streamsec streamsec \
    && mkdir -p /var/lib/streamsec /keyring /topologies \
    && chown streamsec:streamsec /var/lib/streamsec /keyring

# Real STREAMSEC_* settings (streamsec/settings.py); docker-compose.yml sets the rest.
ENV STREAMSEC_HOME=/var/lib/streamsec \
    STREAMSEC_KEYRING=/keyring/keyring.json \
    STREAMSEC_METRICS_PORT=9108

USER streamsec
WORKDIR /var/lib/streamsec
EXPOSE 9108
ENTRYPOINT ["streamsec"]
CMD ["worker", "--topology", "/topologies/customers.yaml"]
